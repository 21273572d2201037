"""The class report's cost: ``autograder report UNIT`` for a class of 50, 100 and 200 submissions.

Each size gets a simulated class of unit 05 (14 graded functions, the most of any unit): every
student's ``nnlib`` is the reference with a few functions rewritten (a line of their own with
numbers nobody else has, so that their fingerprints are their own), a ring of copies among them,
and results written by hand (about a third of the tests failed, with judge-like messages), as
``autograder grade`` leaves them. What is timed is a fresh process doing what the command does:
import the autograder and matplotlib, read the results, fingerprint every submission, compare the
pairs, draw the figures and write the page and the CSVs. Target: at most 10 s for 200 on 2 cores.
Printed apart: the imports (nbgrader, for the late policy, and matplotlib), a fixed cost.

Run: `.venv/bin/python benchmarks/bench_report.py [N ...]` (default: 50 100 200). On 2 cores shared
with other work (load average about 3): 50, 100, 200 submissions in 3.5, 4.8, 5.5 s, of which the
report's own work is 0.5, 0.7 and 1.0 s (the rest is importing).
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"  # the reference of the course in this repository
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from autograder import results  # noqa: E402
from autograder.course import get_unit  # noqa: E402
from autograder.editions import write_edition  # noqa: E402
from autograder.regions import find_regions  # noqa: E402
from autograder.results import GradeReport, StudentResult, TestResult  # noqa: E402
from benchmarks.common import machine_summary  # noqa: E402
from simulated_class import make_submission  # noqa: E402

UNIT = "05_backprop"
TESTS = ["test_linear_backward", "test_sigmoid_backward", "test_tanh_backward", "test_relu_backward",
         "test_sequential_backward", "test_sgd_step", "test_value_add", "test_value_mul",
         "test_value_pow", "test_value_tanh", "test_value_exp", "test_value_log", "test_value_relu",
         "test_value_backward"]
MESSAGES = [
    "Linear.backward: grads['W'] = dL/dW, of the shape of W ({a}, {b}) differs from the right answer "
    "({c} of {c} entries off; largest error {e:.3g})",
    "Linear.backward: grads['b'] = dL/db, of the shape of b ({b},), a sum over the {a} examples "
    "({a} times too small: did you take a mean where a sum is needed?)",
    "Tanh.backward raised NameError: name 'x{a}' is not defined",
    "Value.__mul__: a.grad after out._backward(), which does a.grad += d(out)/da * out.grad: expected "
    "{e:.4g}, got {f:.4g}",
]


def reference_regions():
    """``[(module, qualname, body)]`` of the unit's graded functions in the reference."""
    found = []
    for name in get_unit(UNIT).graded:
        _, module, qualname = name.split(".", 2)
        source = (REFERENCE_DIR / f"{module}.py").read_text()
        lines = source.splitlines()
        (region,) = [r for r in find_regions(source) if r.qualname == qualname]
        found.append((module, qualname, "\n".join(lines[region.begin:region.end - 1])))
    return found


def build_class(work, size, rng):
    release = work / "release" / UNIT
    write_edition(UNIT, release)
    own = reference_regions()
    students, previous = [], []
    for number in range(size):
        student = f"student_{number:03d}"
        edits = []
        for module, qualname, body in own:
            if rng.random() < 0.4:  # a line of their own in this function
                indent = body[:len(body) - len(body.lstrip())]
                extra = f"{indent}_scale_{number} = {rng.integers(2, 10**6)} * {rng.random():.6f}\n"
                edits.append((module, qualname, extra + body))
        if number % 40 == 1:  # a copy of the student before, as it is
            edits = previous
        previous = edits
        make_submission(release, work / "submitted" / student / UNIT, regions=edits)
        tests = []
        for name in TESTS:
            if rng.random() < 0.3:
                message = MESSAGES[int(rng.integers(len(MESSAGES)))].format(
                    a=int(rng.integers(2, 9)), b=int(rng.integers(2, 9)), c=int(rng.integers(4, 40)),
                    e=rng.random(), f=rng.random())
                tests.append(TestResult(name, 0.0, 1.0 + (name == "test_linear_backward"), message))
            else:
                tests.append(TestResult(name, 1.0 + (name == "test_linear_backward"),
                                        1.0 + (name == "test_linear_backward")))
        students.append(StudentResult(student, tests))
    results.save(GradeReport(UNIT, students, work / "grades" / f"{UNIT}.csv", "bubblewrap"), work)


TIMED = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, {repo!r})
from autograder.report import write_unit_report
import autograder.adjustments, matplotlib.pyplot  # what every report imports (nbgrader among it)
imported = time.perf_counter()
written = write_unit_report({unit!r}, {work!r})
print(imported - start, time.perf_counter() - imported)
"""


def main(sizes):
    print(machine_summary())
    rng = np.random.default_rng(0)
    for size in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            build_class(work, size, rng)
            seconds, parts = [], []
            for _ in range(3):
                start = time.perf_counter()
                out = subprocess.run([sys.executable, "-c", TIMED.format(repo=str(REPO), unit=UNIT,
                                                                         work=str(work))],
                                     check=True, capture_output=True, text=True).stdout.splitlines()
                seconds.append(time.perf_counter() - start)
                parts.append([float(part) for part in out[0].split()])
            imports, build = min(parts, key=sum)
            print(f"{size} submissions: {min(seconds):.2f} s for the whole process (best of 3): "
                  f"{imports:.2f} s importing, {build:.2f} s reading, comparing, drawing and writing")


if __name__ == "__main__":
    main([int(size) for size in sys.argv[1:]] or [50, 100, 200])
