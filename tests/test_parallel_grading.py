"""Grading in parallel, locally or on a Dask cluster, gives the same grades (a worker killed
mid-task included); regrade and export work on the saved results."""
import csv
import json
import os
import shutil
import signal
import threading
import time

from pathlib import Path

import pytest

from autograder.cli import main
from autograder.export import export
from autograder.grading import grade
from autograder.grading_task import SECRET
from autograder.stopping import descendants
from simulated_class import file_hashes, grade_class, make_submission

UNIT = "04_single_layer_gradients"
REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

STUDENTS = {
    "reference": lambda release, folder: make_submission(release, folder),
    "untouched": lambda release, folder: make_submission(release, folder, reference=False),
    "wrong_mse": lambda release, folder: make_submission(
        release, folder, regions=[("losses", "MSELoss.backward", "return 2.0 * (pred - target)")]),
    "wrong_relu": lambda release, folder: make_submission(
        release, folder, regions=[("functional", "relu_derivative", "return (z >= 0) * 1.0")]),
    "hangs": lambda release, folder: make_submission(
        release, folder, regions=[("functional", "tanh_derivative", "while True:\n    pass")]),
    "memory_hog": lambda release, folder: make_submission(
        release, folder, regions=[("functional", "tanh_derivative",
                                   "hog = [bytearray(10 ** 8) for _ in range(10 ** 4)]")]),
}


def same_course(graded, work):
    """``work`` grades as the course in ``graded`` does: with its secret, the judge probes each
    submission on the same seed (``grading_task.judge_seed``), so even the numbers in messages
    are the same."""
    secret = work / SECRET
    secret.parent.mkdir(parents=True)
    shutil.copy(graded / SECRET, secret)


@pytest.fixture(scope="module")
def graded_twice(tmp_path_factory):
    sequential = grade_class(UNIT, tmp_path_factory.mktemp("one"), STUDENTS, cell_timeout=8, jobs=1)
    parallel_work = tmp_path_factory.mktemp("two")
    same_course(sequential["work"], parallel_work)
    report = grade(UNIT, submissions=sequential["submissions"], work_dir=parallel_work,
                   progress=False, cell_timeout=8, jobs=2)
    return sequential, report, parallel_work


def table(report):
    return {s.student_id: [(t.name, t.score) for t in s.tests] for s in report.students}


def verdicts(report):
    """Every test's score and message, and each submission's problems."""
    return {s.student_id: ([(t.name, t.score, t.message) for t in s.tests], s.problems)
            for s in report.students}


def test_parallel_grading_gives_the_same_grades(graded_twice):
    sequential, parallel, _ = graded_twice
    assert verdicts(parallel) == verdicts(sequential["report"])
    assert sequential["before"] == sequential["after"]


def _kill_a_worker_mid_task(client, killed):
    """SIGKILL the first Dask worker process seen grading (a task, and a child process: its kernel
    server, kernel or judge)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not killed:
        pids = client.run(os.getpid)
        for address, tasks in client.processing().items():
            if tasks and address in pids and descendants(pids[address]):
                time.sleep(0.5)  # well into the submission's grading
                os.kill(pids[address], signal.SIGKILL)
                killed.append((address, sorted(tasks)))
                return
        time.sleep(0.1)


@pytest.fixture(scope="module")
def graded_on_dask(graded_twice, tmp_path_factory):
    """The same class graded on a Dask LocalCluster of two worker processes, one of which is
    killed while it grades."""
    distributed = pytest.importorskip("distributed")
    sequential = graded_twice[0]
    work = tmp_path_factory.mktemp("dask")
    same_course(sequential["work"], work)
    # Everything runs in an empty folder, with no course in sight: the workers must get all they
    # need from their tasks (the kit and the submission), as on a cluster without a shared file
    # system, and the grading process uses the course it is given.
    elsewhere, here = tmp_path_factory.mktemp("elsewhere"), os.getcwd()
    os.chdir(elsewhere)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=50) as cluster, \
                distributed.Client(cluster, set_as_default=False) as client:
            assert set(client.run(os.getcwd).values()) == {str(elsewhere)}
            # grade() must use its own client: none is the default here, as in `autograder grade`
            killed = []
            killer = threading.Thread(target=_kill_a_worker_mid_task, args=(client, killed))
            killer.start()
            try:
                report = grade(UNIT, submissions=sequential["submissions"], work_dir=work,
                               root=REPO, progress=False, cell_timeout=8,
                               scheduler=cluster.scheduler_address)
            finally:
                killer.join()
    finally:
        os.chdir(here)
    return report, work, killed


def test_a_dask_cluster_gives_the_same_grades_though_a_worker_died(graded_twice, graded_on_dask):
    sequential = graded_twice[0]
    report, work, killed = graded_on_dask
    assert len(killed) == 1, "no worker was seen grading, so none was killed"
    # Every test's score and message, the hung and the memory-hungry submissions' included.
    assert verdicts(report) == verdicts(sequential["report"])
    hog = {t.name: t for t in report.students[[s.student_id for s in report.students]
                                              .index("memory_hog")].tests}
    assert hog["test_tanh_derivative"].score == 0
    # Nothing submitted changed.
    assert file_hashes(sequential["submissions"]) == sequential["before"]
    assert file_hashes(work / "submitted") == file_hashes(sequential["work"] / "submitted")
    # The one writer: the gradebook and the autograded notebooks are this course's, complete.
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gradebook:
        for student in report.students:
            scores = {grade.name: grade.auto_score for grade in
                      gradebook.find_submission_notebook(UNIT, UNIT, student.student_id).grades}
            assert {t.name: t.score for t in student.tests}.items() <= scores.items()
    assert all((work / "autograded" / s.student_id / UNIT / f"{UNIT}.ipynb").is_file()
               for s in report.students)
    assert all((work / "feedback" / s.student_id / UNIT / "summary.html").is_file()
               for s in report.students)
    assert (work / "reports" / f"{UNIT}.html").is_file()


def test_regrade_changes_one_student_and_keeps_the_others(graded_twice):
    _, parallel, work = graded_twice
    fixed = work / "submitted" / "wrong_mse" / UNIT
    shutil.rmtree(fixed / "nnlib")
    shutil.copytree(work / "submitted" / "reference" / UNIT / "nnlib", fixed / "nnlib")
    report = grade(UNIT, work_dir=work, progress=False, cell_timeout=8, students=["wrong_mse"])
    before, after = table(parallel), table(report)
    assert after["wrong_mse"] != before["wrong_mse"]
    assert all(score == dict(before["reference"])[name] for name, score in after["wrong_mse"])
    assert {k: v for k, v in after.items() if k != "wrong_mse"} == \
        {k: v for k, v in before.items() if k != "wrong_mse"}
    with open(report.csv_path) as handle:
        assert len(list(csv.reader(handle))) == 1 + len(STUDENTS)
    with pytest.raises(ValueError, match="no submission of .* for nobody_here"):
        grade(UNIT, work_dir=work, progress=False, students=["nobody_here"])


def test_exports_for_gradescope_and_an_lms(graded_twice):
    _, report, work = graded_twice
    paths = export(UNIT, "gradescope", work_dir=work)
    assert len(paths) == len(STUDENTS)
    results = json.loads((work / "exports" / UNIT / "gradescope" / "wrong_relu" / "results.json")
                         .read_text())
    assert set(results) >= {"score", "tests"}
    assert all(set(test) == {"name", "score", "max_score", "output", "visibility"}
               for test in results["tests"])
    failed = [test for test in results["tests"] if test["score"] < test["max_score"]]
    assert [test["name"] for test in failed] == ["test_relu_derivative"]
    assert "relu_derivative" in failed[0]["output"]
    (lms,) = export(UNIT, "csv", work_dir=work)
    with open(lms) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student ID", f"{UNIT} Points", f"{UNIT} Max Points"]
    assert ["reference", "14", "14"] in rows and ["untouched", "0", "14"] in rows
    with pytest.raises(ValueError, match="unknown format"):
        export(UNIT, "xlsx", work_dir=work)


def test_export_before_grading_says_what_to_run(tmp_path, monkeypatch, capsys):
    import autograder.export as module

    original = module.export
    monkeypatch.setattr(module, "export", lambda unit, fmt, work_dir: original(unit, fmt, work_dir=tmp_path))
    assert main(["export", UNIT, "--format", "csv"]) == 2
    assert "run `autograder grade" in capsys.readouterr().err
