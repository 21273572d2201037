"""The judge decides outside the student's process: cheats inside nnlib gain nothing.

Each cheating submission pairs the cheat with a wrong sigmoid_derivative (it returns sigmoid(z)):
if the cheat worked, the judge would pass it. The dangerous ones (fork bomb, 10 GB allocation,
endless import) must be contained by the limits and leave nothing running.

Every test runs twice: with a cold judge (a fresh interpreter in a sandbox of its own, as outside
a grading worker) and with a warm one (forked from the process's kernel server, as in a grading
worker: ``autograder.warm_kernel``).
"""
import hashlib
import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest

from autograder import warm_kernel
from autograder.judge import Limits, judge_function
from autograder.stopping import descendants
from simulated_class import rewrite_region

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"

NAME = "nnlib.functional.sigmoid_derivative"
FAST = Limits(cpu_seconds=4, wall_seconds=8)
WRONG = ("functional", "sigmoid_derivative", "return sigmoid(z)")
pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True, params=["cold", "warm"])
def judged(request, monkeypatch):
    """The judge's child, cold or warm; for a warm one, the kernel server it is forked from."""
    if request.param == "cold":
        monkeypatch.setattr(warm_kernel, "running", lambda: None)
        return None
    try:
        return warm_kernel.server()
    except warm_kernel.KernelServerUnavailable as error:
        pytest.fail(f"the sandbox works here, so the kernel server must: {error}")  # a bug


def left_running(server, before, seconds=2.0):
    """The processes below a warm judge's kernel server that were not there ``before`` it judged,
    once its monitor had a moment to exit."""
    deadline = time.monotonic() + seconds
    while True:
        new = set(descendants(server.process.pid)) - before
        if not new or time.monotonic() > deadline:
            return sorted(new)
        time.sleep(0.05)


def submission(tmp_path, at_import="", body=None, wrong=True):
    folder = tmp_path / "student"
    shutil.copytree(REFERENCE_DIR, folder / "nnlib", ignore=shutil.ignore_patterns("__pycache__"))
    if wrong:
        rewrite_region(folder / "nnlib", *WRONG)
    if body is not None:
        rewrite_region(folder / "nnlib", "functional", "sigmoid_derivative", body)
    init = folder / "nnlib" / "__init__.py"
    init.write_text(textwrap.dedent(at_import) + "\n" + init.read_text())
    return folder


def test_reference_passes_and_the_wrong_answer_fails(tmp_path):
    assert judge_function(NAME, submission(tmp_path, wrong=False), limits=FAST).passed
    verdict = judge_function(NAME, submission(tmp_path / "w"), limits=FAST)
    assert not verdict.passed and "sigmoid_derivative(z)" in verdict.message


CHEATS = {
    "patched_numpy_comparisons": """
        import numpy, numpy.testing
        numpy.allclose = lambda *args, **kwargs: True
        numpy.array_equal = lambda *args, **kwargs: True
        numpy.testing.assert_allclose = lambda *args, **kwargs: None
    """,
    "fake_autograder_in_sys_modules": """
        import sys, types
        fake = types.ModuleType("autograder")
        fake.__getattr__ = lambda name: (lambda *args, **kwargs: True)
        for name in ["autograder", "autograder.hidden_tests", "autograder.checks", "autograder.probes",
                     "autograder.judge"]:
            sys.modules[name] = fake
    """,
    "replaced_exits_and_hooks": """
        import os, sys
        sys.exit = lambda *args: None
        os._exit = lambda *args: None
        sys.excepthook = lambda *args: None
    """,
    "fake_passed_output": """
        print("All tests passed \\u2713 10/10")
    """,
}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheats_at_import_gain_nothing(tmp_path, cheat):
    verdict = judge_function(NAME, submission(tmp_path, CHEATS[cheat]), limits=FAST)
    assert not verdict.passed, cheat


def test_a_correct_answer_keeps_its_marks_despite_noise(tmp_path):
    folder = submission(tmp_path, CHEATS["fake_passed_output"], wrong=False)
    assert judge_function(NAME, folder, limits=FAST).passed


@pytest.mark.parametrize("body, phrase", [
    ("""
        class Equal:
            def __eq__(self, other):
                return True
            __array_priority__ = 1000
        return Equal()
    """, "expected a numpy array"),
    ("""
        class Liar(np.ndarray):
            def __eq__(self, other):
                return np.ones(np.shape(other), dtype=bool)
        return np.zeros(np.shape(z)).view(Liar)
    """, "subclass"),
])
def test_objects_that_lie_about_equality_fail(tmp_path, body, phrase):
    verdict = judge_function(NAME, submission(tmp_path, body=body, wrong=False), limits=FAST)
    assert not verdict.passed and phrase in verdict.message


def test_writing_outside_its_folder_fails_and_changes_nothing(tmp_path):
    target = REPO / "autograder" / "probes" / "unit04.py"
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    cheat = f"""
        for path in [{str(target)!r}, {str(REFERENCE_DIR / 'functional.py')!r}]:
            try:
                with open(path, "a") as handle:
                    handle.write("\\n# tampered\\n")
            except OSError:
                pass
    """
    assert not judge_function(NAME, submission(tmp_path, cheat), limits=FAST).passed
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def test_the_reference_and_other_students_are_out_of_reach(tmp_path):
    """Whoever grades (root or not), the judged child cannot see the course: a child that could
    read the reference or a classmate would answer right."""
    other = tmp_path / "work" / "submitted" / "alice" / "04_single_layer_gradients" / "nnlib"
    shutil.copytree(REFERENCE_DIR, other, ignore=shutil.ignore_patterns("__pycache__"))
    body = f"""
        for folder in [{str(REFERENCE_DIR)!r}, {str(other)!r}, {str(REPO / '.git')!r}]:
            try:
                import os
                readable = bool(os.listdir(folder))
            except OSError:
                readable = False
            if readable:  # stands for copying the answer out of what could be read
                s = 1 / (1 + np.exp(-z))
                return s * (1 - s)
        return sigmoid(z)
    """
    assert judge_function(NAME, submission(tmp_path, body=body, wrong=False), limits=FAST,
                          sandboxed=False).passed  # control: without the sandbox, it can read
    assert not judge_function(NAME, submission(tmp_path / "s", body=body, wrong=False),
                              limits=FAST).passed


@pytest.mark.parametrize("cheat, phrase", [
    ("import os\nwhile True:\n    os.fork()", ""),
    ("import numpy\nhuge = numpy.ones(10 * 1024 ** 3 // 8)", "MemoryError"),
    ("while True:\n    pass", ""),
], ids=["fork_bomb", "ten_gigabytes", "endless_import"])
def test_resource_abuse_is_contained(tmp_path, cheat, phrase, judged):
    seed = int.from_bytes(os.urandom(7), "big")  # names this test's children among any others
    before = set(descendants(judged.process.pid)) if judged is not None else set()
    verdict = judge_function(NAME, submission(tmp_path, cheat, wrong=False), seed=seed, limits=FAST)
    assert not verdict.passed and phrase in verdict.message
    leftover = [line for line in os.popen("ps -eo args").read().splitlines()
                if "autograder.judge_child" in line and f" {NAME} {seed}" in line]
    assert leftover == []
    if judged is not None:
        assert left_running(judged, before) == []


def test_each_function_is_judged_on_its_own(tmp_path):
    """One child judges every function of a notebook, each in a process of its own: a function
    that hangs, crashes the interpreter or exhausts its CPU fails alone, and the others are
    judged as if it were not there."""
    from autograder.judge import judge

    folder = submission(tmp_path, wrong=False)
    rewrite_region(folder / "nnlib", "functional", "tanh_derivative",
                   "import time\ntime.sleep(60)")
    rewrite_region(folder / "nnlib", "functional", "relu_derivative",
                   "import os\nos.kill(os.getpid(), 11)")
    rewrite_region(folder / "nnlib", "gradcheck", "rel_error", "while True:\n    pass")
    names = ["nnlib.functional.tanh_derivative", NAME, "nnlib.functional.relu_derivative",
             "nnlib.gradcheck.rel_error", "nnlib.losses.MSELoss.forward"]
    verdicts = judge(names, folder, limits=FAST)
    assert verdicts[NAME].passed and verdicts["nnlib.losses.MSELoss.forward"].passed
    assert "did not finish within 8 s" in verdicts["nnlib.functional.tanh_derivative"].message
    assert "crashed" in verdicts["nnlib.functional.relu_derivative"].message
    # CPU or wall clock, whichever strikes first (on a busy machine, the wall clock)
    assert "did not finish within" in verdicts["nnlib.gradcheck.rel_error"].message


def test_what_one_function_leaves_running_is_gone_before_the_next(tmp_path):
    """A daemon started while one function is judged (here one that would answer for the next
    function through a file) is ended before the next function runs."""
    from autograder.judge import judge

    folder = submission(tmp_path, wrong=False)
    rewrite_region(folder / "nnlib", "functional", "tanh_derivative", textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            os.setsid()  # out of the probe's process group too
            time.sleep(1.5)
            open("/tmp/daemon-alive", "w").close()
            os._exit(0)
        return 1.0 - np.tanh(z) ** 2
    """))
    rewrite_region(folder / "nnlib", "functional", "relu_derivative", textwrap.dedent("""
        import os, time
        time.sleep(3)
        if os.path.exists("/tmp/daemon-alive"):
            return (z > 0).astype(float)
        return np.zeros_like(z)
    """))
    verdicts = judge(["nnlib.functional.tanh_derivative", "nnlib.functional.relu_derivative"],
                     folder, limits=FAST)
    assert verdicts["nnlib.functional.tanh_derivative"].passed
    assert not verdicts["nnlib.functional.relu_derivative"].passed
