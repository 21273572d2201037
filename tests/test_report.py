"""``autograder report``: the class report of a unit, its CSVs, similarity, and the page in a browser.

No grading here: a simulated class of unit 06 is built with ``make_submission`` (each student's
``nnlib`` in ``submitted/<student>/<unit>/``) and its results are written by hand with
``results.save``, as ``autograder grade`` would leave them.
"""
import csv
import os
import shutil
from pathlib import Path

import pytest

from autograder import results
from autograder.cli import main
from autograder.editions import write_edition
from autograder.report import (CHECK_THE_TEST, REFERENCE, after_grading, failure_kind, per_test,
                               write_course_report, write_unit_report, wrong_gradients)
from autograder.results import GradeReport, StudentResult, TestResult
from autograder.similarity import Submission, compare, tokens
from course_copy import linked_course
from simulated_class import make_submission

REPO = Path(__file__).resolve().parents[1]
UNIT = "06_softmax"
POINTS = {"test_softmax": 2.0, "test_log_softmax": 2.0, "test_cross_entropy_forward": 2.0,
          "test_cross_entropy_backward": 2.0, "test_accuracy": 1.0}

# A student who wrote every function their own way (correct), and a classmate's copy of it: names
# renamed, comments rewritten, two independent statements swapped in two functions.
ORIGINAL = {
    ("functional", "softmax"): """
        # subtract the row maximum first so that exp never overflows
        top = np.max(x, axis=axis, keepdims=True)
        e = np.exp(x - top)
        total = np.sum(e, axis=axis, keepdims=True)
        result = e / total
        return result
    """,
    ("functional", "log_softmax"): """
        top = np.max(x, axis=axis, keepdims=True)
        centred = x - top
        log_total = np.log(np.sum(np.exp(centred), axis=axis, keepdims=True))
        result = centred - log_total
        return result
    """,
    ("losses", "CrossEntropyLoss.forward"): """
        n = logits.shape[0]
        logp = log_softmax(logits, axis=1)
        picked = np.zeros(n)
        for i in range(n):
            picked[i] = logp[i, labels[i]]  # the log-probability of the right class
        loss = -np.sum(picked) / n
        return float(loss)
    """,
    ("losses", "CrossEntropyLoss.backward"): """
        n = logits.shape[0]
        probs = softmax(logits, axis=1)
        onehot = np.zeros_like(probs)
        for i in range(n):
            onehot[i, labels[i]] = 1.0
        diff = probs - onehot
        return diff / n
    """,
}
COPY = {
    ("functional", "softmax"): """
        # shift by the largest entry: keeps np.exp finite
        biggest = np.max(x, axis=axis, keepdims=True)
        ex = np.exp(x - biggest)
        s = np.sum(ex, axis=axis, keepdims=True)
        out = ex / s
        return out
    """,
    ("functional", "log_softmax"): """
        biggest = np.max(x, axis=axis, keepdims=True)
        shifted = x - biggest
        lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        out = shifted - lse
        return out
    """,
    ("losses", "CrossEntropyLoss.forward"): """
        logq = log_softmax(logits, axis=1)
        count = logits.shape[0]
        chosen = np.zeros(count)
        for k in range(count):
            chosen[k] = logq[k, labels[k]]
        value = -np.sum(chosen) / count
        return float(value)
    """,
    ("losses", "CrossEntropyLoss.backward"): """
        p = softmax(logits, axis=1)
        m = logits.shape[0]
        target = np.zeros_like(p)
        for k in range(m):
            target[k, labels[k]] = 1.0   # one-hot
        d = p - target
        return d / m
    """,
}
# Two correct solutions, different from each other, the reference and ORIGINAL.
ALTERNATIVE_A = {
    ("functional", "softmax"): """
        z = x - x.max(axis=axis, keepdims=True)
        return np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    """,
    ("functional", "log_softmax"): """
        m = x.max(axis=axis, keepdims=True)
        return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    """,
    ("losses", "CrossEntropyLoss.forward"): """
        p = softmax(logits, axis=1)
        return float(-np.mean(np.log(p[np.arange(logits.shape[0]), labels])))
    """,
    ("losses", "CrossEntropyLoss.backward"): """
        g = softmax(logits, axis=1).copy()
        g[range(len(labels)), labels] -= 1
        return g / logits.shape[0]
    """,
}
ALTERNATIVE_B = {
    ("functional", "softmax"): """
        out = np.empty_like(x, dtype=float)
        rows, res = np.moveaxis(x, axis, -1), np.moveaxis(out, axis, -1)
        for idx in np.ndindex(rows.shape[:-1]):
            row = rows[idx] - np.max(rows[idx])
            res[idx] = np.exp(row) / np.exp(row).sum()
        return out
    """,
    ("losses", "CrossEntropyLoss.forward"): """
        total = 0.0
        for row, label in zip(log_softmax(logits, axis=1), labels):
            total -= row[label]
        return float(total / len(labels))
    """,
    ("losses", "CrossEntropyLoss.backward"): """
        eye = np.eye(logits.shape[1])
        return (softmax(logits, axis=1) - eye[labels]) / len(labels)
    """,
}
# The seed's erratum, (p - t) p (1 - p): five students, each in their own words.
ERRATUM = """
    {p} = softmax(logits, axis=1)
    {t} = np.eye({p}.shape[1])[labels]
    return ({p} - {t}) * {p} * (1 - {p}) / len(labels)
"""
WRONG = [("p", "t"), ("probs", "onehot"), ("q", "y"), ("s", "target"), ("pr", "tt")]


def erratum_message(n, k, error):
    return (f"CrossEntropyLoss.backward: dL/dz for logits of shape ({n}, {k}), some rows shifted by "
            f"±1000 differs from the right answer ({n * k} of {n * k} entries off; largest error "
            f"{error:.3g})")


def regions(code):
    return [(module, qualname, body) for (module, qualname), body in code.items()]


def results_of(student, failures=()):
    """All tests at full marks except ``failures``: {test: message}; test_accuracy fails for all
    but ``accuracy_passes`` (a test nearly nobody passes)."""
    failures = dict(failures)
    return [TestResult(name, 0.0 if name in failures else points, points, failures.get(name, ""))
            for name, points in POINTS.items()]


ACCURACY = "accuracy: expected 0.75, got 0.7 (did you compare with target.size?)"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """``work`` with ``submitted/`` and ``grades/06_softmax.json`` of a class of 14."""
    work = tmp_path_factory.mktemp("course")
    release = work / "release" / UNIT
    write_edition(UNIT, release)
    students, code = [], {}
    code.update({f"reference_{i}": [] for i in range(1, 5)})
    code.update({"original": regions(ORIGINAL), "copier": regions(COPY),
                 "alternative_a": regions(ALTERNATIVE_A), "alternative_b": regions(ALTERNATIVE_B)})
    for number, (p, t) in enumerate(WRONG, start=1):
        code[f"erratum_{number}"] = [("losses", "CrossEntropyLoss.backward", ERRATUM.format(p=p, t=t))]
    for student, edits in code.items():
        make_submission(release, work / "submitted" / student / UNIT, regions=edits)
    for student in code:
        failures = {"test_accuracy": ACCURACY}
        if student.startswith("erratum_"):
            number = int(student.split("_")[1])
            failures["test_cross_entropy_backward"] = erratum_message(4 + number, 3 + number % 2,
                                                                      0.1 * number)
        if student == "alternative_b":  # one passes test_accuracy: "nearly" nobody
            del failures["test_accuracy"]
        if student == "reference_4":
            failures["test_softmax"] = "softmax: contains inf or nan where the right answer is finite"
        students.append(StudentResult(student, results_of(student, failures)))
    students[0].problems.append("the graded notebook could not be rendered as a page")
    problem = "the notebook could not be read: it is not valid JSON (line 3)"
    students.append(StudentResult("corrupt", [TestResult(name, 0.0, points, problem)
                                              for name, points in POINTS.items()], [problem]))
    report = GradeReport(UNIT, students, work / "grades" / f"{UNIT}.csv", "bubblewrap 0.8.0")
    results.save(report, work)
    written = write_unit_report(UNIT, work)
    return {"work": work, "written": written, "report": results.load(UNIT, work)}


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_per_test_counts_equal_the_grade_table(course):
    grade_rows = read_csv(course["work"] / "grades" / f"{UNIT}.csv")
    tests = {row["test"]: row for row in read_csv(course["written"].tests_csv)}
    assert list(tests) == list(POINTS)
    ungradable = {student.student_id for student in course["report"].students if student.ungradable}
    assert ungradable == {"corrupt"}
    for name, points in POINTS.items():
        at_full = [row for row in grade_rows if float(row[name]) >= points]
        graded = [row for row in grade_rows if row["student_id"] not in ungradable]
        assert int(tests[name]["passed"]) == len(at_full)
        assert int(tests[name]["graded"]) == len(graded)
        assert int(tests[name]["failed"]) == len(graded) - len(at_full)
        assert int(tests[name]["not_graded"]) == len(ungradable)
        mean = sum(float(row[name]) for row in graded) / len(graded)
        assert float(tests[name]["mean_points"]) == pytest.approx(mean, abs=1e-4)


def test_the_same_wrong_derivative_is_one_group_of_five(course):
    failures = [row for row in read_csv(course["written"].failures_csv)
                if row["test"] == "test_cross_entropy_backward"]
    assert len(failures) == 1, failures  # shapes, counts and errors differed: one kind all the same
    (group,) = failures
    assert int(group["count"]) == 5
    assert sorted(group["students"].split()) == [f"erratum_{i}" for i in range(1, 6)]
    assert "(…)" in group["kind"] and "#" in group["kind"]
    tests = {row["test"]: row for row in read_csv(course["written"].tests_csv)}
    assert tests["test_cross_entropy_backward"]["wrong_gradients"] == "z: 5"


def test_a_test_nearly_nobody_passes_is_flagged_and_the_others_are_not(course):
    stats = {entry.name: entry for entry in per_test(course["report"])}
    assert stats["test_accuracy"].passed == 1 and stats["test_accuracy"].flagged
    assert [name for name, entry in stats.items() if entry.flagged] == ["test_accuracy"]
    assert CHECK_THE_TEST in course["written"].summary
    page = course["written"].page.read_text()
    assert page.count(CHECK_THE_TEST) == 2  # in the table and above the test's groups


def test_the_planted_copy_is_the_most_similar_pair_and_alternatives_are_not_flagged(course):
    pairs = read_csv(course["written"].pairs_csv)
    listed = [frozenset((row["first"], row["second"])) for row in pairs if row["second"] != REFERENCE]
    assert listed and listed[0] == {"copier", "original"}
    assert float(pairs[0]["similarity"]) >= 0.7
    # Correct alternatives are not flagged against each other, nor the five who wrote the same
    # one-line mistake, nor the students who kept the reference's code.
    assert listed == [frozenset({"copier", "original"})]
    identical = sorted(row["first"] for row in pairs if row["second"] == REFERENCE)
    assert identical == [f"reference_{i}" for i in range(1, 5)]
    page = course["written"].page.read_text()
    assert "picked[i] = logp[i, labels[i]]" in page and "chosen[k] = logq[k, labels[k]]" in page


def test_the_summary_and_the_page_say_what_could_not_be_graded(course):
    summary = course["written"].summary
    assert "corrupt: the notebook could not be read" in summary
    assert "graded, with problems:\n  reference_1: the graded notebook could not be rendered" in summary
    assert "13 graded" in summary and "14 submissions" in summary
    page = course["written"].page.read_text()
    assert "the notebook could not be read" in page
    assert "never a verdict" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_tokens_ignore_names_comments_and_whitespace_but_not_operations():
    first = tokens("y = x.T @ g   # the gradient\nreturn y.sum(axis=0)\n")
    second = tokens("\n\n    out = inp.T @ upstream\n    # summed\n    return out.sum(axis=0)")
    assert first == second
    assert tokens("return y.mean(axis=0)") != tokens("return y.sum(axis=0)")


def test_a_shared_one_liner_counts_for_nothing():
    line = {"nnlib.functional.sigmoid": "return 1.0 / (1.0 + np.exp(-x))"}
    own = {"nnlib.functional.sigmoid": "out = np.empty_like(x)\nfor i in range(len(x)):\n"
                                       "    out[i] = 1.0 / (1.0 + math.exp(-x[i]))\nreturn out"}
    class_ = [Submission(f"s{i}", line) for i in range(6)] + [Submission("t", own)]
    assert compare(class_).pairs == []


def test_failure_kinds_normalise_numbers_shapes_and_names():
    assert failure_kind("f: expected shape (3, 4), got (4, 3) (transposed?)") \
        == failure_kind("f: expected shape (5, 2), got (2, 5) (transposed?)")
    assert failure_kind("f raised NameError: name 'foo' is not defined") \
        == failure_kind("f raised NameError: name 'tmp2' is not defined")
    assert failure_kind("largest error 0.25") == failure_kind("largest error 1.5e-03")
    assert failure_kind("f: the sign is flipped") != failure_kind("f: 2 times too large")
    assert wrong_gradients("Linear.backward: grads['W'] = dL/dW, of the shape of W (3, 4) differs; "
                           "grads['b'] for a batch of one example differs") == ["W", "b"]
    assert wrong_gradients("Value.__mul__: b.grad after out._backward()") == ["b"]
    assert wrong_gradients("LogisticRegression.loss_and_gradients['dw'] has the right shape but is 2 "
                           "times too large") == ["w"]
    assert wrong_gradients("RNN.backward['dx = dL/dx, shape (2, 3, 4)'] differs") == ["x"]
    assert wrong_gradients("accuracy: expected 0.75, got 0.7") == []


def test_report_all_is_a_student_by_unit_table(course, tmp_path):
    work = tmp_path
    shutil.copytree(course["work"] / "grades", work / "grades")
    later = GradeReport("07_optimizers",
                        [StudentResult("original", [TestResult("test_adam", 3.0, 4.0, "x")]),
                         StudentResult("newcomer", [TestResult("test_adam", 4.0, 4.0)])],
                        work / "grades" / "07_optimizers.csv")
    results.save(later, work)
    page, summary = write_course_report(work)
    rows = {row["student_id"]: row for row in read_csv(page.with_suffix(".csv"))}
    assert rows["original"][UNIT] == "8" and rows["original"]["07_optimizers"] == "3"
    assert rows["original"]["total"] == "11" and rows["original"]["total_max"] == "13"
    assert rows["newcomer"][UNIT] == "" and rows["corrupt"][UNIT] == "not graded"
    assert "2 graded unit(s)" in summary and page.read_text().count("<img") == 1


def test_the_command_writes_the_report_and_says_where(course, tmp_path, monkeypatch, capsys):
    shutil.copytree(course["work"] / "grades", tmp_path / "grades")
    monkeypatch.chdir(linked_course(tmp_path) / "grades")  # found from a folder inside the course
    assert main(["report", UNIT]) == 0
    out = capsys.readouterr().out
    assert f"class report: {tmp_path / 'reports' / f'{UNIT}.html'}" in out
    assert (tmp_path / "reports" / f"{UNIT}_pairs.csv").is_file()
    assert main(["report"]) == 2
    assert main(["report", "07_optimizers"]) == 2
    assert "autograder grade 07_optimizers" in capsys.readouterr().err


def test_after_grading_never_fails_grading(course, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("autograder.report.write_unit_report", broken)
    line = after_grading(course["report"], course["work"])
    assert "class report not written (RuntimeError: disk full)" in line
    assert line in capsys.readouterr().out


DRAWN = "images => images.map(image => image.complete && image.naturalWidth)"


@pytest.mark.slow
def test_the_page_works_offline_in_chromium(course, tmp_path):
    """Headless Chromium opens the unit's page and the all-units page from disk with the network
    off: no console error, every image drawn, nothing requested but the files themselves.
    UPDATE_SCREENSHOTS=1 copies its screenshots to docs/class_report.png and _pairs.png."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed here (make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    errors, requests = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
            page = context.new_page()
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(course["written"].page.as_uri(), wait_until="load")
            widths = page.eval_on_selector_all("img", DRAWN)
            shot = tmp_path / "class_report.png"
            page.screenshot(path=str(shot), full_page=False)
            pairs_shot = tmp_path / "class_report_pairs.png"
            page.evaluate("document.getElementById('similar').scrollIntoView()")
            page.screenshot(path=str(pairs_shot), full_page=False)
            all_units, _ = write_course_report(course["work"])
            page.goto(all_units.as_uri(), wait_until="load")
            widths += page.eval_on_selector_all("img", DRAWN)
        finally:
            browser.close()
    assert errors == []
    assert len(widths) == 3 and all(width > 0 for width in widths), widths
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    if os.environ.get("UPDATE_SCREENSHOTS"):
        shutil.copy(shot, REPO / "docs" / "class_report.png")
        shutil.copy(pairs_shot, REPO / "docs" / "class_report_pairs.png")


def test_a_symlink_or_a_huge_file_in_a_submission_is_not_read(tmp_path):
    from autograder.similarity import MAX_FILE_BYTES, graded_code

    secret = tmp_path / "secret.py"
    secret.write_text("def sigmoid(x):\n    return 'the instructor s secret'\n")
    (tmp_path / "nnlib").mkdir()
    (tmp_path / "nnlib" / "functional.py").symlink_to(secret)
    (tmp_path / "nnlib" / "perceptron.py").write_text("#" * (MAX_FILE_BYTES + 1))
    code = graded_code(tmp_path / "nnlib",
                       ["nnlib.functional.sigmoid", "nnlib.perceptron.Perceptron.fit"])
    assert code == {"nnlib.functional.sigmoid": "", "nnlib.perceptron.Perceptron.fit": ""}
    (tmp_path / "nnlib" / "functional.py").unlink()
    shutil.copy(secret, tmp_path / "nnlib" / "functional.py")  # no markers: the function's body
    name = "nnlib.functional.sigmoid"
    assert "secret" in graded_code(tmp_path / "nnlib", [name])[name]


def test_grade_ends_with_the_class_report_and_one_line_saying_where(course, tmp_path, monkeypatch,
                                                                    capsys):
    """``grade`` (and so ``regrade``) writes the report once its results are saved; the grading
    itself is stood in for: what is tested is the call at its end."""
    import autograder.grading

    shutil.copytree(course["work"] / "submitted", tmp_path / "submitted")
    monkeypatch.setattr(autograder.grading, "_grade", lambda *args: course["report"])
    with pytest.warns(autograder.grading.UnsandboxedGrading):
        report = autograder.grading.grade(UNIT, work_dir=tmp_path, sandboxed=False, progress=True)
    assert report is course["report"]
    assert capsys.readouterr().out == f"class report: {tmp_path / 'reports' / f'{UNIT}.html'}\n"
    pairs = read_csv(tmp_path / "reports" / f"{UNIT}_pairs.csv")
    assert {pairs[0]["first"], pairs[0]["second"]} == {"copier", "original"}
