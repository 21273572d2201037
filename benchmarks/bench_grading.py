"""Load test of the grading pipeline: a class of N submissions graded with --jobs 1 and --jobs 2.

The class mixes correct submissions, plausible mistakes, crashes, one that hangs and one that
exhausts memory. Prints both wall-clock times, checks the two runs give identical grades and that no
submitted file changed. Run: `.venv/bin/python benchmarks/bench_grading.py [N]` (default 200).
"""
import hashlib
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from autograder.build import build_unit  # noqa: E402
from autograder.grading import grade  # noqa: E402
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


def main(count=200):
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        scratch = Path(scratch)
        release = build_unit(UNIT, scratch / "release", work_dir=scratch / "build")
        submissions = scratch / "submissions"
        plan = ONCE + [KINDS[index % len(KINDS)] for index in range(count - len(ONCE))]
        for index, (kind, options) in enumerate(plan):
            make_submission(release, submissions / f"s{index:03d}_{kind}" / UNIT, **options)
        before = hashes(submissions)
        print(f"{count} submissions of {UNIT}; machine: {machine_summary()}")
        tables = {}
        for jobs in (2, 1):
            start = time.perf_counter()
            report = grade(UNIT, submissions=submissions, work_dir=scratch / f"work{jobs}",
                           progress=True, cell_timeout=10, jobs=jobs, feedback=True)
            seconds = time.perf_counter() - start
            tables[jobs] = {s.student_id: [(t.name, t.score) for t in s.tests] for s in report.students}
            print(f"--jobs {jobs}: {seconds:7.1f} s  ({seconds / count:.2f} s per submission), "
                  f"mean score {sum(s.score for s in report.students) / count:.2f}")
        print("identical grades:", tables[1] == tables[2])
        print("submitted files unchanged:", hashes(submissions) == before)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
