"""The judge's cost per notebook: every graded function in one sandboxed child (forking one process
per function once numpy and the probes are imported) against one sandboxed child per function, as
the judge worked before, in the same run on the same submission (the reference), interleaved.

Run: `.venv/bin/python benchmarks/bench_judge.py [UNIT ...]` (default: units 04 and 08).
"""
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"  # the reference of the course in this repository
sys.path[:0] = [str(REPO)]
from autograder.course import get_unit  # noqa: E402
from autograder.judge import judge  # noqa: E402
from benchmarks.common import interleaved_median_seconds, machine_summary  # noqa: E402

DEFAULT_UNITS = ["04_single_layer_gradients", "08_cnn"]


def main(units):
    print(machine_summary())
    with tempfile.TemporaryDirectory() as scratch:
        submission = Path(scratch) / "submission"
        shutil.copytree(REFERENCE_DIR, submission / "nnlib",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for unit in units:
            names = list(get_unit(unit).graded)

            def together():
                verdicts = judge(names, submission)
                assert all(verdict.passed for verdict in verdicts.values()), verdicts

            def one_child_each():
                for name in names:
                    assert judge([name], submission)[name].passed

            seconds = interleaved_median_seconds({"one child": (together, 1, None),
                                                  "one child per function": (one_child_each, 1, None)},
                                                 repeats=5, warmup=1)
            ratio = seconds["one child per function"] / seconds["one child"]
            print(f"{unit}: {len(names)} functions judged in {seconds['one child']:.2f} s with one "
                  f"child, {seconds['one child per function']:.2f} s with one child per function "
                  f"({ratio:.1f}x)")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_UNITS)
