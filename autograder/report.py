"""``autograder report``: what a class did with a unit, as one page an instructor reads offline.

``autograder report UNIT`` (and the end of every ``grade`` and ``regrade``) writes, under
``reports/``:

- ``<unit>.html``: one self-contained page (figures embedded as PNG, no script, nothing fetched):
  the score distribution and every submission that could not be graded, with why; per graded test
  its pass rate and mean points, its failure messages grouped by kind (numbers, quoted names and
  shapes normalised away), each group with its count and its students, and for gradient tests which
  parameter's gradient was wrong how often; a test that (nearly) nobody passes is flagged "check the
  test or the instructions"; then the pairs of submissions whose graded code is most alike
  (``autograder.similarity``), side by side, and who handed in the published reference's code;
- ``<unit>_tests.csv`` (one row per test), ``<unit>_failures.csv`` (one row per group of failures)
  and ``<unit>_pairs.csv`` (one row per similar pair, and one per submission identical to the
  reference): the data behind the page.

``autograder report --all`` writes ``reports/all-units.html`` and ``.csv``: a student × unit table
of scores and each unit's distribution side by side.

Scores are the current ones (``adjustments.current``): a grader's score and the late penalty
included, as ``export`` and the feedback pages show them. Similarity changes no score.
"""
import base64
import csv
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import results
from .course import UNIT_IDS, get_unit
from .files import write_atomically
from .course_folder import course_root, reference_dir

ALL_UNITS = "all-units"
NEARLY_NOBODY = 0.1  # a test passed by at most this share of graded submissions is flagged ...
FLAG_MIN_GRADED = 3  # ... once at least this many were graded
CHECK_THE_TEST = "check the test or the instructions"
PAIRS_SHOWN = 25  # pairs shown side by side on the page (the CSV has them all)
REFERENCE = "(the published reference)"


def reports_folder(work_dir):
    return Path(work_dir) / "reports"


# --- failure messages -----------------------------------------------------------------------------

_SHAPE = re.compile(r"\((?:\s*-?\d+\s*,)+\s*(?:-?\d+\s*)?\)")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])")
_QUOTED = re.compile(r"""(?<!\[)(['"])[^'"\n]{1,80}\1(?!\])""")
_GRADIENT = re.compile(r"grads\[['\"](?P<key>\w+)['\"]\]|\bdL/d(?P<wrt>\w+)|\b(?P<value>[a-z])\.grad\b"
                       r"|\[['\"]d(?P<short>[A-Za-z]{1,3}\d?)(?=['\" ])")


def failure_kind(message):
    """``message`` with its numbers, shapes and quoted names replaced, so that the same mistake
    made on different random inputs (or with different variable names) reads the same."""
    kind = _SHAPE.sub("(…)", message)
    kind = _QUOTED.sub(lambda match: f"{match.group(1)}…{match.group(1)}", kind)
    kind = _NUMBER.sub("#", kind)
    return re.sub(r"\s+", " ", kind).strip() or "(no message)"


def wrong_gradients(message):
    """The parameters whose gradient a judge's message says is wrong: ``grads['W']`` -> ``W``,
    ``dL/dx`` -> ``x``, ``a.grad`` -> ``a``, ``['dw']`` -> ``w``; each once, in order."""
    found = []
    for match in _GRADIENT.finditer(message):
        name = match.group("key") or match.group("wrt") or match.group("value") or match.group("short")
        if name not in found:
            found.append(name)
    return found


# --- statistics -----------------------------------------------------------------------------------

@dataclass
class TestStats:
    __test__ = False

    name: str
    max_score: float
    graded: int = 0  # submissions that could be graded
    passed: int = 0  # at full marks for this test
    not_graded: int = 0  # submissions that could not be graded at all
    points: float = 0.0  # sum over the graded submissions
    groups: list = field(default_factory=list)  # (kind, [students], one message), largest first
    gradients: Counter = field(default_factory=Counter)  # parameter -> submissions with it wrong

    @property
    def failed(self):
        return self.graded - self.passed

    @property
    def pass_rate(self):
        return self.passed / self.graded if self.graded else 0.0

    @property
    def mean(self):
        return self.points / self.graded if self.graded else 0.0

    @property
    def flagged(self):
        return self.graded >= FLAG_MIN_GRADED and self.pass_rate <= NEARLY_NOBODY


def per_test(report):
    """One ``TestStats`` per test of ``report``, in the order of the grade table."""
    names = []
    for student in report.students:
        for test in student.tests:
            if test.name not in names:
                names.append(test.name)
    stats = {name: TestStats(name, 0.0) for name in names}
    grouped = defaultdict(lambda: defaultdict(list))
    for student in report.students:
        for test in student.tests:
            entry = stats[test.name]
            entry.max_score = max(entry.max_score, test.max_score)
            if student.ungradable:
                entry.not_graded += 1
                continue
            entry.graded += 1
            entry.points += test.score
            if test.score >= test.max_score:
                entry.passed += 1
                continue
            message = test.message or "did not pass"
            grouped[test.name][failure_kind(message)].append((student.student_id, message))
            for parameter in wrong_gradients(message):
                entry.gradients[parameter] += 1
    for name, kinds in grouped.items():
        stats[name].groups = sorted(
            ((kind, [student for student, _ in members], members[0][1])
             for kind, members in kinds.items()),
            key=lambda group: (-len(group[1]), group[0]))
    return list(stats.values())


@dataclass
class Distribution:
    scores: list  # final scores of the graded submissions
    max_score: float
    ungradable: list  # (student, why)

    @property
    def mean(self):
        return statistics.mean(self.scores) if self.scores else 0.0

    @property
    def median(self):
        return statistics.median(self.scores) if self.scores else 0.0

    @property
    def full(self):
        return sum(score >= self.max_score for score in self.scores)

    @property
    def zero(self):
        return sum(score == 0 for score in self.scores)


def distribution(report):
    graded = [student for student in report.students if not student.ungradable]
    top = max((student.max_score for student in report.students), default=0.0)
    ungradable = [(student.student_id, "; ".join(student.problems)) for student in report.students
                  if student.ungradable]
    return Distribution([student.score for student in graded], top, ungradable)


# --- similarity -----------------------------------------------------------------------------------

def similarity_of(unit, work_dir, report, root=None):
    """``similarity.Similarity`` of the graded code each student of ``report`` submitted, with the
    reference of the course at ``root`` (default: the chosen course's)."""
    from .similarity import Submission, compare, graded_code

    graded = get_unit(unit).graded
    submissions = []
    for student in report.students:
        nnlib = Path(work_dir) / "submitted" / student.student_id / unit / "nnlib"
        if nnlib.is_dir():
            submissions.append(Submission(student.student_id, graded_code(nnlib, graded)))
    reference = Submission(REFERENCE, graded_code(
        reference_dir(Path(root) / "nnlib" if root is not None else None), graded))
    return compare(submissions, reference=reference)


# --- figures --------------------------------------------------------------------------------------

def _png(figure):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)  # drawn off-screen, never a window
    import matplotlib.pyplot as plt
    return plt


def _score_bins(max_score):
    top = max_score or 1.0
    return [top * i / 10 for i in range(11)]


def histogram_png(dist, title):
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 2.6))
    axes.hist(dist.scores, bins=_score_bins(dist.max_score), color="#4c78a8", edgecolor="white")
    axes.set_xlabel(f"score (of {dist.max_score:g})")
    axes.set_ylabel("submissions")
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def pass_rate_png(stats):
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(stats) + 0.8))
    names = [entry.name for entry in stats][::-1]
    rates = [100 * entry.pass_rate for entry in stats][::-1]
    colours = ["#b42318" if entry.flagged else "#4c78a8" for entry in stats][::-1]
    axes.barh(names, rates, color=colours)
    axes.set_xlim(0, 100)
    axes.set_xlabel("passed (% of graded submissions)")
    axes.tick_params(axis="y", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def side_by_side_png(dists):
    """Each unit's distribution, one small histogram per unit on one row (``--all``)."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(dists), figsize=(1.9 * len(dists) + 0.5, 2.2), sharey=True,
                                squeeze=False)
    for ax, (unit, dist) in zip(axes[0], dists.items()):
        ax.hist(dist.scores, bins=_score_bins(dist.max_score), color="#4c78a8", edgecolor="white")
        ax.set_title(unit, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].set_ylabel("submissions", fontsize=8)
    return _png(figure)


# --- the page -------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border-bottom: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.flag { color: #b42318; font-weight: bold; }
.note { background: #f4f6f8; border-left: 4px solid #8aa; padding: .6em 1em; }
.problem { background: #fff4e5; border-left: 4px solid #f79009; padding: .6em 1em; }
details { margin: .3em 0 .6em; } summary { cursor: pointer; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; }
pre { margin: 0; white-space: pre-wrap; background: #fafafa; padding: .4em; }
.pair td { width: 50%; }
img { max-width: 100%; }
"""


def _page(title, body):
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"</title><style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _img(png, alt):
    return f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">'


def _e(text):
    return html.escape(str(text))


def _students(names, limit=30):
    shown = ", ".join(_e(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _distribution_html(unit, dist, report):
    parts = [f"<h2>Scores</h2><p>{len(report.students)} submissions; {len(dist.scores)} graded: mean "
             f"{dist.mean:.2f}, median {dist.median:.2f} of {dist.max_score:g}; "
             f"{dist.full} at full marks, {dist.zero} at zero.</p>"]
    if dist.scores:
        parts.append(_img(histogram_png(dist, f"{unit}: final scores"), f"histogram of {unit} scores"))
    if dist.ungradable:
        rows = "".join(f"<tr><td>{_e(student)}</td><td>{_e(why)}</td></tr>"
                       for student, why in dist.ungradable)
        parts.append(f'<h3>Could not be graded ({len(dist.ungradable)})</h3><div class="problem">'
                     f"<table><tr><th>student</th><th>why</th></tr>{rows}</table></div>")
    others = [(student, problem) for student, problem in report.failures
              if student not in {name for name, _ in dist.ungradable}]
    if others:
        rows = "".join(f"<tr><td>{_e(student)}</td><td>{_e(why)}</td></tr>" for student, why in others)
        parts.append(f'<h3>Graded, with problems ({len(others)})</h3><div class="problem">'
                     f"<table><tr><th>student</th><th>problem</th></tr>{rows}</table></div>")
    return "\n".join(parts)


def _tests_html(stats):
    rows = []
    for entry in stats:
        flag = f' <span class="flag">{CHECK_THE_TEST}</span>' if entry.flagged else ""
        rows.append(f"<tr><td><a href=\"#{_e(entry.name)}\">{_e(entry.name)}</a>{flag}</td>"
                    f'<td class="n">{entry.passed} / {entry.graded}</td>'
                    f'<td class="n">{100 * entry.pass_rate:.0f}%</td>'
                    f'<td class="n">{entry.mean:.2f} / {entry.max_score:g}</td></tr>')
    parts = ["<h2>Tests</h2>", "<table><tr><th>test</th><th class=n>passed</th><th class=n>rate</th>"
             "<th class=n>mean points</th></tr>" + "".join(rows) + "</table>"]
    if stats:
        parts.append(_img(pass_rate_png(stats), "pass rate of each test"))
    for entry in stats:
        parts.append(f'<h3 id="{_e(entry.name)}">{_e(entry.name)}: {entry.passed} of {entry.graded} '
                     f"passed, mean {entry.mean:.2f} / {entry.max_score:g}</h3>")
        if entry.flagged:
            parts.append(f'<p class="flag">Nearly nobody passes this test: {CHECK_THE_TEST}.</p>')
        if entry.gradients:
            wrong = ", ".join(f"<code>{_e(name)}</code> {count}×"
                              for name, count in entry.gradients.most_common())
            parts.append(f"<p>Gradients found wrong: {wrong}.</p>")
        for kind, students, example in entry.groups:
            parts.append(f"<details><summary><strong>{len(students)}×</strong> <code>{_e(kind)}</code>"
                         f"</summary><p>{_students(students)}</p><p>for example: "
                         f"<code>{_e(example)}</code></p></details>")
    return "\n".join(parts)


def _similarity_html(sim):
    from .similarity import THRESHOLD
    parts = ['<h2 id="similar">Similar submissions</h2>',
             '<p class="note">Similarity is evidence for a person to look at, never a verdict: two '
             "students may have worked from the same lecture example, and no score changes because "
             "of it. Only code written inside the graded functions is compared (what came with the "
             "release is not), with names, comments, whitespace and the order of statements "
             "normalised away; code that many submissions share counts for nothing.</p>"]
    if sim.as_reference:
        parts.append(f"<p><strong>Identical to the published reference</strong> in every graded "
                     f"function ({len(sim.as_reference)}): {_students(sim.as_reference, 60)}.</p>")
    if not sim.pairs:
        parts.append(f"<p>No pair at or above {100 * THRESHOLD:.0f}% similarity.</p>")
        return "\n".join(parts)
    rows = "".join(f'<tr><td><a href="#pair-{i}">{_e(p.first)} & {_e(p.second)}</a></td>'
                   f'<td class="n">{100 * p.similarity:.0f}%</td><td class="n">{p.shared}</td>'
                   f"<td>{_e(', '.join(name.split('.', 2)[2] for name in p.functions))}</td></tr>"
                   for i, p in enumerate(sim.pairs))
    parts.append(f"<p>{len(sim.pairs)} pair(s) at or above {100 * THRESHOLD:.0f}%, most similar "
                 "first.</p>"
                 "<table><tr><th>pair</th><th class=n>similarity</th><th class=n>shared fingerprints"
                 f"</th><th>in</th></tr>{rows}</table>")
    for i, pair in enumerate(sim.pairs[:PAIRS_SHOWN]):
        first, second = sim.submissions[pair.first], sim.submissions[pair.second]
        blocks = []
        for name in pair.functions:
            blocks.append(f'<tr><th colspan="2"><code>{_e(name)}</code></th></tr><tr class="pair">'
                          f"<td><pre>{_e(_strip(first.code.get(name, '')))}</pre></td>"
                          f"<td><pre>{_e(_strip(second.code.get(name, '')))}</pre></td></tr>")
        names = f"{_e(pair.first)} & {_e(pair.second)}"
        parts.append(f'<h3 id="pair-{i}">{names}: {100 * pair.similarity:.0f}%</h3>'
                     f'<table style="width:100%"><tr><th>{_e(pair.first)}</th>'
                     f"<th>{_e(pair.second)}</th></tr>{''.join(blocks)}</table>")
    if len(sim.pairs) > PAIRS_SHOWN:
        parts.append(f"<p>The other {len(sim.pairs) - PAIRS_SHOWN} pairs are in the CSV.</p>")
    return "\n".join(parts)


def _strip(code):
    import textwrap
    return textwrap.dedent(code).strip("\n")


# --- the files ------------------------------------------------------------------------------------

def _csv(rows):
    table = io.StringIO(newline="")
    csv.writer(table).writerows(rows)
    return table.getvalue()


def tests_table(stats):
    rows = [["test", "max_score", "graded", "passed", "failed", "not_graded", "pass_rate",
             "mean_points", "flag", "wrong_gradients", "failure_kinds"]]
    for entry in stats:
        rows.append([entry.name, f"{entry.max_score:g}", entry.graded, entry.passed, entry.failed,
                     entry.not_graded, f"{entry.pass_rate:.4f}", f"{entry.mean:.4f}",
                     CHECK_THE_TEST if entry.flagged else "",
                     "; ".join(f"{name}: {count}" for name, count in entry.gradients.most_common()),
                     len(entry.groups)])
    return _csv(rows)


def failures_table(stats):
    rows = [["test", "kind", "count", "students", "example"]]
    for entry in stats:
        for kind, students, example in entry.groups:
            rows.append([entry.name, kind, len(students), " ".join(students), example])
    return _csv(rows)


def pairs_table(sim):
    rows = [["first", "second", "similarity", "shared_fingerprints", "functions"]]
    for pair in sim.pairs:
        rows.append([pair.first, pair.second, f"{pair.similarity:.4f}", pair.shared,
                     " ".join(pair.functions)])
    for student in sim.as_reference:
        rows.append([student, REFERENCE, "1.0000", "", "every graded function"])
    return _csv(rows)


@dataclass
class UnitReport:
    unit: str
    page: Path
    tests_csv: Path
    failures_csv: Path
    pairs_csv: Path
    summary: str


def write_unit_report(unit, work_dir=None, report=None, root=None):
    """Write ``reports/<unit>.html`` and its CSVs from the unit's current results (or ``report``,
    already adjusted, as ``grade`` has it); returns a ``UnitReport`` with the text summary.
    ``root``: the course whose reference the similarity compares with (default: the chosen one)."""
    work_dir = course_root(work_dir)
    get_unit(unit)
    if report is None:
        from .adjustments import current
        report = current(unit, work_dir)
    dist, stats = distribution(report), per_test(report)
    sim = similarity_of(unit, work_dir, report, root)
    title = f"{unit}: class report"
    body = "\n".join([f"<h1>{_e(title)}</h1>",
                      f"<p>{_e(get_unit(unit).title)}. Scores as students see them (a grader's score "
                      "and late penalties included).</p>",
                      _distribution_html(unit, dist, report), _tests_html(stats),
                      _similarity_html(sim)])
    folder = reports_folder(work_dir)
    written = UnitReport(unit, folder / f"{unit}.html", folder / f"{unit}_tests.csv",
                         folder / f"{unit}_failures.csv", folder / f"{unit}_pairs.csv", "")
    write_atomically(written.tests_csv, tests_table(stats))
    write_atomically(written.failures_csv, failures_table(stats))
    write_atomically(written.pairs_csv, pairs_table(sim))
    write_atomically(written.page, _page(title, body))
    written.summary = _summary(unit, report, dist, stats, sim, written)
    return written


def _summary(unit, report, dist, stats, sim, written):
    lines = [f"{unit}: {len(report.students)} submissions, {len(dist.scores)} graded; mean "
             f"{dist.mean:.2f}, median {dist.median:.2f} of {dist.max_score:g}; {dist.full} at full "
             f"marks, {dist.zero} at zero"]
    if dist.ungradable:
        lines.append("could not be graded:")
        lines += [f"  {student}: {why}" for student, why in dist.ungradable]
    ungradable = {student for student, _ in dist.ungradable}
    others = [(student, problem) for student, problem in report.failures if student not in ungradable]
    if others:
        lines.append("graded, with problems:")
        lines += [f"  {student}: {problem}" for student, problem in others]
    flagged = [entry for entry in stats if entry.flagged]
    if flagged:
        lines.append(f"{CHECK_THE_TEST}:")
        lines += [f"  {entry.name}: passed by {entry.passed} of {entry.graded}" for entry in flagged]
    groups = sorted(((len(students), entry.name, kind) for entry in stats
                     for kind, students, _ in entry.groups), reverse=True)[:3]
    if groups:
        lines.append("largest groups of failures:")
        lines += [f"  {count}× {name}: {kind[:100]}" for count, name, kind in groups]
    if sim.pairs:
        top = sim.pairs[0]
        lines.append(f"similar pairs: {len(sim.pairs)} (most similar {top.first} & {top.second}, "
                     f"{100 * top.similarity:.0f}%) — evidence to look at, not a verdict")
    if sim.as_reference:
        lines.append(f"identical to the published reference: {', '.join(sim.as_reference)}")
    lines.append(f"class report: {written.page} (data: {written.tests_csv.name}, "
                 f"{written.failures_csv.name}, {written.pairs_csv.name})")
    return "\n".join(lines)


def after_grading(report, work_dir, announce=True, root=None):
    """The class report at the end of ``grade``/``regrade``: one line saying where it is, or why it
    could not be written. Never raises: grading has already saved its results."""
    try:
        written = write_unit_report(report.unit, work_dir, report=report, root=root)
        line = f"class report: {written.page}"
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - never fails grading
        line = f"class report not written ({type(error).__name__}: {error}); `autograder report " \
               f"{report.unit}` tries again"
    if announce:
        print(line)
    return line


def write_course_report(work_dir=None):
    """``reports/all-units.html`` and ``.csv``: a student × unit table of scores and every graded
    unit's distribution side by side. ``FileNotFoundError`` when no unit has grades."""
    work_dir = course_root(work_dir)
    from .adjustments import current
    reports = {unit: current(unit, work_dir) for unit in UNIT_IDS
               if results.results_path(unit, work_dir).is_file()}
    if not reports:
        raise FileNotFoundError("no unit has grades yet: run `autograder grade UNIT` first")
    scores = defaultdict(dict)
    for unit, report in reports.items():
        for student in report.students:
            scores[student.student_id][unit] = student
    maxima = {unit: distribution(report).max_score for unit, report in reports.items()}
    units = list(reports)
    rows = [["student_id"] + units + ["total", "total_max"]]
    html_rows = []
    for student_id in sorted(scores):
        cells, total = [], 0.0
        for unit in units:
            result = scores[student_id].get(unit)
            if result is None:
                cells.append("")
            elif result.ungradable:
                cells.append("not graded")
            else:
                cells.append(f"{result.score:g}")
                total += result.score
        rows.append([student_id] + cells + [f"{total:g}", f"{sum(maxima.values()):g}"])
        html_rows.append(f"<tr><td>{_e(student_id)}</td>"
                         + "".join(f'<td class="n">{_e(cell)}</td>' for cell in cells)
                         + f'<td class="n">{total:g}</td></tr>')
    dists = {unit: distribution(report) for unit, report in reports.items()}
    header = "".join(f'<th class="n">{_e(unit)}<br>(of {maxima[unit]:g})</th>' for unit in units)
    means = "".join(f'<td class="n">{dists[unit].mean:.2f}</td>' for unit in units)
    body = (f"<h1>The course: every graded unit</h1><h2>Distributions</h2>"
            f"{_img(side_by_side_png(dists), 'score distribution of each unit')}"
            f"<h2>Scores</h2><p>A blank cell: no submission of that unit.</p>"
            f"<table><tr><th>student</th>{header}"
            f"<th class=n>total (of {sum(maxima.values()):g})</th></tr>"
            f"<tr><td><em>mean</em></td>{means}<td></td></tr>{''.join(html_rows)}</table>")
    folder = reports_folder(work_dir)
    write_atomically(folder / f"{ALL_UNITS}.csv", _csv(rows))
    page = write_atomically(folder / f"{ALL_UNITS}.html", _page("The course: class report", body))
    summary = "\n".join([f"{len(scores)} students, {len(units)} graded unit(s)"]
                        + [f"  {unit}: mean {dists[unit].mean:.2f} / {maxima[unit]:g} of "
                           f"{len(dists[unit].scores)}" for unit in units]
                        + [f"class report: {page} (data: {ALL_UNITS}.csv)"])
    return page, summary
