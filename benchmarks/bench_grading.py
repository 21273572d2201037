"""Load test of the grading pipeline: a class of N submissions graded with and without the sandbox.

The class mixes correct submissions, plausible mistakes, crashes, one that hangs and one that
exhausts memory. It is graded with --jobs 2 in the sandbox, on a Dask LocalCluster of 2 worker
processes in the sandbox (--scheduler; its time as a ratio of the --jobs 2 run's), with --jobs 2
without the sandbox (--no-sandbox), with --sequential also with --jobs 1 in the sandbox, and with
--cold also with --jobs 2 in the sandbox on cold kernels (AUTOGRADER_WARM_KERNELS=0: a fresh
interpreter per notebook instead of one forked from the worker's kernel server).

Prints each wall-clock time and seconds per submission; CPU seconds per submission, counted two
ways: the machine's (all its processes, from /proc/stat: counts the sandboxed kernels and judges,
and anything else running, so quote it from a quiet machine) and, without the sandbox, this
process's and its children's; the sandbox's cost per submission; checks that every run gives
identical grades (every score and message) and that no submitted file changed; for each run, where
the time goes by stage (kernel start and stop, cell execution, judge, nbgrader's other steps,
reading scores, feedback).
Run: `.venv/bin/python benchmarks/bench_grading.py [N] [--sequential] [--cold] [--unit NN]`
(default N: 200; --unit takes an id or its start, e.g. 08).
"""
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from autograder.build import build_unit  # noqa: E402
from autograder.course import UNIT_IDS  # noqa: E402
from autograder.grading import grade  # noqa: E402
from autograder.grading_task import SECRET  # noqa: E402
from autograder.timings import STAGES  # noqa: E402
from benchmarks.common import machine_summary  # noqa: E402
from simulated_class import file_hashes, make_submission  # noqa: E402

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


def cpu_seconds():
    """CPU time of this process and of every process it has waited for (the workers, and through
    them their kernels and judged children, each reaped by its parent)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def machine_cpu_seconds():
    """CPU seconds the whole machine has spent (every process, sandboxed or not), from /proc/stat."""
    fields = open("/proc/stat").readline().split()[1:]
    busy = sum(int(value) for index, value in enumerate(fields) if index not in (3, 4))  # not idle
    return busy / os.sysconf("SC_CLK_TCK")


def print_breakdown(report):
    """Each stage's seconds (summed over the submissions, in the workers; feedback in its
    renderer process and the grading process) and its share of their total."""
    totals = dict.fromkeys(STAGES, 0.0)
    for student in report.students:
        for stage, spent in getattr(student, "timings", {}).items():
            totals[stage] += spent
    totals["feedback"] = getattr(report, "feedback_seconds", 0.0)
    whole = sum(totals.values()) or 1.0
    print("  where the time goes: " + ", ".join(f"{stage} {spent:.0f} s ({100 * spent / whole:.0f}%)"
                                                for stage, spent in totals.items()))


def main(count=200, sequential=False, unit=UNIT, cold=False):
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        scratch = Path(scratch)
        release = build_unit(unit, scratch / "release", work_dir=scratch / "build", root=REPO)
        submissions = scratch / "submissions"
        # The mistakes are unit 04's functions; another unit's class is its reference and its
        # untouched release, half and half (for its cost per submission, not its verdicts).
        kinds, once = (KINDS, ONCE) if unit == UNIT else ([("correct", {}), ("untouched", {
            "reference": False})], [])
        plan = once + [kinds[index % len(kinds)] for index in range(count - len(once))]
        for index, (kind, options) in enumerate(plan):
            make_submission(release, submissions / f"s{index:03d}_{kind}" / unit, **options)
        before = file_hashes(submissions)
        print(f"{count} submissions of {unit}; machine: {machine_summary()}, "
              f"load average {os.getloadavg()[0]:.1f} before")
        runs = [("--jobs 2", 2, True, None), ("--scheduler (Dask LocalCluster, 2 workers)", 2, True,
                                              "dask"), ("--jobs 2 --no-sandbox", 2, False, None)]
        runs += [("--jobs 1", 1, True, None)] * sequential
        runs += [("--jobs 2, cold kernels", 2, True, None)] * cold
        tables, seconds = {}, {}
        for label, jobs, sandboxed, scheduler in runs:
            if "cold" in label:  # read by the workers this run starts
                os.environ["AUTOGRADER_WARM_KERNELS"] = "0"
            work = scratch / f"work{len(tables)}"
            if tables:  # the same course: the judge probes each submission on the same seed
                (work / SECRET).parent.mkdir(parents=True)
                shutil.copy(scratch / "work0" / SECRET, work / SECRET)
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=50) if scheduler else None
            cpu_before, machine_before = cpu_seconds(), machine_cpu_seconds()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the --no-sandbox warning: we asked for it
                report = grade(unit, submissions=submissions, work_dir=work, root=REPO, progress=True,
                               cell_timeout=10, jobs=jobs, feedback=True, sandboxed=sandboxed,
                               scheduler=cluster.scheduler_address if cluster else None)
            seconds[label] = time.perf_counter() - start
            os.environ.pop("AUTOGRADER_WARM_KERNELS", None)
            cpu, machine = cpu_seconds() - cpu_before, machine_cpu_seconds() - machine_before
            if cluster:
                cluster.close()
            tables[label] = {s.student_id: [(t.name, t.score, t.message) for t in s.tests]
                             for s in report.students}
            # A sandbox's processes die with its PID namespace, unreaped by anything here, so only
            # a run without the sandbox counts all of its CPU time as this process's children.
            cpu_text = f", {cpu / count:.2f} s of CPU per submission" if not sandboxed else ""
            print(f"{label:44s} {seconds[label]:7.1f} s  ({seconds[label] / count:.2f} s per "
                  f"submission{cpu_text}; machine CPU {machine / count:.2f} s per submission), "
                  f"mean score {sum(s.score for s in report.students) / count:.2f}")
            print_breakdown(report)
        dask = seconds["--scheduler (Dask LocalCluster, 2 workers)"]
        print(f"Dask LocalCluster / local pool: {dask / seconds['--jobs 2']:.3f}x the wall time")
        if cold:
            print(f"warm / cold kernels: {seconds['--jobs 2'] / seconds['--jobs 2, cold kernels']:.3f}x "
                  "the wall time")
        # Without the sandbox kernels start cold: the sandbox's own cost is measured against the
        # sandboxed run on cold kernels when there is one.
        sandboxed_label = "--jobs 2, cold kernels" if cold else "--jobs 2"
        cost = (seconds[sandboxed_label] - seconds["--jobs 2 --no-sandbox"]) * 2 / count
        print(f"sandbox cost ({sandboxed_label}): {cost:+.3f} s of worker time per submission "
              f"({seconds[sandboxed_label] / seconds['--jobs 2 --no-sandbox']:.3f}x the wall time)")
        # Sandbox on or off is part of what a grade is computed from (fingerprint.grading_inputs),
        # so the judge's seed, and the numbers in some messages, differ without it.
        sandboxed = {label: table for label, table in tables.items() if "--no-sandbox" not in label}
        first_label, first = next(iter(sandboxed.items()))
        print("identical grades (every score and message) across the sandboxed runs:",
              all(table == first for table in sandboxed.values()))
        print("identical scores with and without the sandbox:",
              all([row[:2] for row in rows] == [row[:2] for row in first[student]]
                  for table in tables.values() for student, rows in table.items()))
        for label, table in sandboxed.items():
            for student in sorted(set(table) | set(first)):
                for ours, theirs in zip(table.get(student, []), first.get(student, [])):
                    if ours != theirs:
                        print(f"  {label} differs from {first_label} for {student}: {ours} "
                              f"instead of {theirs}")
        print("submitted files unchanged:", file_hashes(submissions) == before)


if __name__ == "__main__":
    numbers = [argument for argument in sys.argv[1:] if argument.isdigit()]
    chosen = sys.argv[sys.argv.index("--unit") + 1] if "--unit" in sys.argv else UNIT
    main(int(numbers[0]) if numbers else 200, sequential="--sequential" in sys.argv,
         cold="--cold" in sys.argv,
         unit=next(unit for unit in UNIT_IDS if unit.startswith(chosen)))
