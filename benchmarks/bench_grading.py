"""Load test of the grading pipeline: a class of N submissions graded with and without the sandbox.

The class mixes correct submissions, plausible mistakes, crashes, one that hangs and one that
exhausts memory. It is graded with --jobs 2 in the sandbox, with --jobs 2 without it
(--no-sandbox), and, with --sequential, with --jobs 1 in the sandbox. Prints each wall-clock time
and seconds per submission, the CPU seconds per submission of the run without the sandbox (this
process and every process it started), the sandbox's cost per submission, checks that every run gives
identical grades and that no submitted file changed; for each run, where the time goes by stage
(kernel start and stop, cell execution, judge, nbgrader's other steps, reading scores, feedback).
Run: `.venv/bin/python benchmarks/bench_grading.py [N] [--sequential]` (default N: 200).
"""
import hashlib
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from autograder.build import build_unit  # noqa: E402
from autograder.grading import grade  # noqa: E402
from autograder.timings import STAGES  # noqa: E402
from benchmarks.common import machine_summary  # noqa: E402
from simulated_class import make_submission  # noqa: E402

UNIT = "04_single_layer_gradients"
KINDS = [
    ("correct", {}),
    ("correct", {}),
    ("correct", {}),
    ("mse_mistake", {"regions": [("losses", "MSELoss.backward", "return 2.0 * (pred - target)")]}),
    ("sigmoid_mistake", {"regions": [("functional", "sigmoid_derivative", "return sigmoid(z)")]}),
    ("untouched", {"reference": False}),
    ("syntax_error", {"regions": [("losses", "MSELoss.forward", "return (pred -")]}),
]
ONCE = [
    ("hangs", {"regions": [("functional", "relu_derivative", "while True:\n    pass")]}),
    ("memory_hog", {"regions": [("functional", "tanh_derivative",
                                 "hog = [bytearray(10 ** 8) for _ in range(10 ** 4)]")]}),
]


def hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cpu_seconds():
    """CPU time of this process and of every process it has waited for (the workers, and through
    them their kernels and judged children, each reaped by its parent)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def print_breakdown(report):
    """Each stage's seconds (summed over the submissions, in the workers; feedback in the grading
    process) and its share of their total."""
    totals = dict.fromkeys(STAGES, 0.0)
    for student in report.students:
        for stage, spent in getattr(student, "timings", {}).items():
            totals[stage] += spent
    totals["feedback"] = getattr(report, "feedback_seconds", 0.0)
    whole = sum(totals.values()) or 1.0
    print("  where the time goes: " + ", ".join(f"{stage} {spent:.0f} s ({100 * spent / whole:.0f}%)"
                                                for stage, spent in totals.items()))


def main(count=200, sequential=False):
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        scratch = Path(scratch)
        release = build_unit(UNIT, scratch / "release", work_dir=scratch / "build")
        submissions = scratch / "submissions"
        plan = ONCE + [KINDS[index % len(KINDS)] for index in range(count - len(ONCE))]
        for index, (kind, options) in enumerate(plan):
            make_submission(release, submissions / f"s{index:03d}_{kind}" / UNIT, **options)
        before = hashes(submissions)
        print(f"{count} submissions of {UNIT}; machine: {machine_summary()}")
        runs = [(2, True), (2, False)] + [(1, True)] * sequential
        tables, seconds = {}, {}
        for jobs, sandboxed in runs:
            label = f"--jobs {jobs}{'' if sandboxed else ' --no-sandbox'}"
            cpu_before = cpu_seconds()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the --no-sandbox warning: we asked for it
                report = grade(UNIT, submissions=submissions, work_dir=scratch / f"work{len(tables)}",
                               progress=True, cell_timeout=10, jobs=jobs, feedback=True,
                               sandboxed=sandboxed)
            seconds[label] = time.perf_counter() - start
            cpu = cpu_seconds() - cpu_before
            tables[label] = {s.student_id: [(t.name, t.score) for t in s.tests] for s in report.students}
            # A sandbox's processes die with its PID namespace, unreaped by anything here, so only
            # a run without the sandbox counts all of its CPU time.
            cpu_text = f", {cpu / count:.2f} s of CPU per submission" if not sandboxed else ""
            print(f"{label:22s} {seconds[label]:7.1f} s  ({seconds[label] / count:.2f} s per "
                  f"submission{cpu_text}), mean score "
                  f"{sum(s.score for s in report.students) / count:.2f}")
            print_breakdown(report)
        cost = (seconds["--jobs 2"] - seconds["--jobs 2 --no-sandbox"]) * 2 / count
        print(f"sandbox cost: {cost:+.3f} s of worker time per submission "
              f"({seconds['--jobs 2'] / seconds['--jobs 2 --no-sandbox']:.3f}x the wall time)")
        first = next(iter(tables.values()))
        print("identical grades:", all(table == first for table in tables.values()))
        print("submitted files unchanged:", hashes(submissions) == before)


if __name__ == "__main__":
    numbers = [argument for argument in sys.argv[1:] if argument.isdigit()]
    main(int(numbers[0]) if numbers else 200, sequential="--sequential" in sys.argv)
