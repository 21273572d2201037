"""Carrying a student's own code forward (``python -m student_tools carry-forward 05`` in the
student copy, ``autograder carry-forward`` in the repository).

A simulated student has written units 01-04 in their copy (correct, but not the reference's text)
and unit 05 in progress. Carrying forward into 05 puts their code in, their unit 05 network trains
on it; a broken unit 04 function stays the reference with a message; edits already made in 05 are
kept; a second run changes nothing. Everything runs in the student copy, which has no reference.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.carry_forward import (ALREADY, CARRIED, FAILED, KEPT_EDIT, MISSING, _replace_bodies,
                                      package_bodies)
from autograder.course import get_unit
from autograder.release import solution_bodies, write_student_copy

UNIT = "05_backprop"
EARLIER = ["01_linear_limits", "02_xor", "03_forward_pass", "04_single_layer_gradients"]

# Correct implementations written otherwise than the reference (loops, einsum, other formulas).
THEIRS = {
    "nnlib.functional.sigmoid":
        "    # mine: sigma(x) = exp(-log(1 + exp(-x))), stable both ways\n"
        "    return np.exp(-np.logaddexp(0.0, -x))\n",
    "nnlib.layers.Linear.forward":
        "        return np.einsum('nd,dk->nk', x, self.params['W']) + self.params['b']  # mine\n",
    "nnlib.layers.Tanh.forward":
        "        m = np.expm1(-2.0 * np.abs(x))  # mine: tanh|x| = -m / (2 + m)\n"
        "        return np.sign(x) * (-m / (2.0 + m))\n",
    "nnlib.layers.ReLU.forward":
        "        return np.where(x > 0, x, 0.0)  # mine\n",
    "nnlib.layers.Sequential.forward":
        "        out = x  # mine\n"
        "        for index in range(len(self.layers)):\n"
        "            out = self.layers[index](out)\n"
        "        return out\n",
    "nnlib.losses.MSELoss.forward":
        "        diff = (pred - target).ravel()  # mine\n"
        "        return float(sum(d * d for d in diff) / diff.size)\n",
    "nnlib.losses.MSELoss.backward":
        "        return (pred - target) * (2.0 / pred.size)  # mine\n",
    "nnlib.losses.BCELoss.forward":
        "        floor = np.exp(-100.0)  # mine: log clamped at -100\n"
        "        log_p, log_q = np.log(np.maximum(pred, floor)), np.log(np.maximum(1.0 - pred, floor))\n"
        "        return float(-(target * log_p + (1.0 - target) * log_q).sum() / target.size)\n",
    "nnlib.losses.BCELoss.backward":
        "        denominator = np.clip(pred * (1.0 - pred), 1e-12, None)  # mine\n"
        "        return (pred - target) / (denominator * pred.size)\n",
}
BROKEN = ("nnlib.losses.MSELoss.backward",
          "        return (pred - target) / pred.size  # forgot the 2\n")


def graded(units):
    return [name for unit in units for name in get_unit(unit).graded]


def theirs(name, reference):
    """The simulated student's body: written otherwise where THEIRS has one, else the reference's
    with a comment of theirs (their text, the reference's arithmetic)."""
    return THEIRS.get(name) or reference[name].rstrip("\n") + "  # mine\n"


def set_bodies(package_dir, bodies):
    """Write ``bodies`` (qualified name -> body) into the regions of an ``nnlib`` folder."""
    found = package_bodies(package_dir)
    per_file = {}
    for name, body in bodies.items():
        relative, region, _ = found[name]
        per_file.setdefault(relative, {})[region.qualname] = body
    for relative, replacements in per_file.items():
        path = Path(package_dir).parent / relative
        path.write_text(_replace_bodies(path.read_text(), str(path), replacements))


def snapshot(folder):
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def copy_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("copy") / "course"
    write_student_copy(folder, "05")
    return folder


@pytest.fixture
def student(copy_template, tmp_path):
    """A student copy through 05 whose owner wrote units 01-04 their own way and started 05."""
    folder = tmp_path / "course"
    shutil.copytree(copy_template, folder)
    reference = solution_bodies(set(EARLIER) | {UNIT})
    for unit in EARLIER:
        set_bodies(folder / "exercises" / unit / "nnlib",
                   {name: theirs(name, reference) for name in graded([unit])})
    # Unit 05 in progress: written (the reference's text, as if they had found it themselves).
    set_bodies(folder / "exercises" / UNIT / "nnlib", {name: reference[name] for name in graded([UNIT])})
    return folder


def carry(folder):
    """Run the copy's own command, as a student does (the repository's autograder out of reach)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "student_tools", "carry-forward", "05"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


TRAIN = """
import inspect, sys
import numpy as np
sys.path.insert(0, ".")
from nnlib.data import make_moons
from nnlib.layers import Linear, Sequential, Sigmoid, Tanh
from nnlib.losses import BCELoss
from nnlib.optim import SGD
assert "einsum" in inspect.getsource(Linear.forward) and "expm1" in inspect.getsource(Tanh.forward)
X, t = make_moons(200, noise=0.15, seed=0)
model = Sequential(Linear(2, 16, rng=1), Tanh(), Linear(16, 16, rng=2), Tanh(), Linear(16, 1, rng=3),
                   Sigmoid())
loss = BCELoss()
optimizer = SGD(model.parameters(), lr=0.3)
losses = []
for step in range(1000):
    losses.append(loss(model.forward(X), t[:, None]))
    model.backward(loss.backward())
    optimizer.step()
print(losses[0], losses[-1], np.mean((model.forward(X)[:, 0] > 0.5) == t))
"""


@pytest.mark.slow
def test_their_own_code_is_carried_and_trains_the_unit_05_network(student):
    before_05 = snapshot(student / "exercises" / UNIT / "nnlib")
    out = carry(student)
    assert "now your code (its checks pass)" in out and "stays the reference" not in out, out
    edition = package_bodies(student / "exercises" / UNIT / "nnlib")
    reference = solution_bodies(set(EARLIER) | {UNIT})
    for name in graded(EARLIER):
        assert edition[name][2] == theirs(name, reference), name
    for name in graded([UNIT]):  # their unit 05 work is untouched
        assert edition[name][2] == reference[name]
    backups = list((student / "backups" / "carry-forward").iterdir())
    assert len(backups) == 1 and snapshot(backups[0] / "nnlib") == before_05

    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    trained = subprocess.run([sys.executable, "-I", "-c", TRAIN], cwd=student / "exercises" / UNIT,
                             env=env, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    first, last, accuracy = map(float, trained.stdout.split())
    assert last < first / 5 and accuracy >= 0.95

    # Twice changes nothing: no file, no new backup.
    after = snapshot(student)
    again = carry(student)
    assert "Nothing changed." in again and "already your code" in again
    assert snapshot(student) == after


def test_a_broken_function_stays_the_reference_and_edits_in_progress_are_kept(student):
    set_bodies(student / "exercises" / "04_single_layer_gradients" / "nnlib", dict([BROKEN]))
    # Already edited in 05 by the student: never overwritten.
    edit = "        return np.maximum(0.0, x)  # changed in 05\n"
    set_bodies(student / "exercises" / UNIT / "nnlib", {"nnlib.layers.ReLU.forward": edit})
    # A unit 03 function the student never wrote: the reference.
    stub = "        raise NotImplementedError('Tanh.forward: implement this in exercise 03_forward_pass')\n"
    set_bodies(student / "exercises" / "03_forward_pass" / "nnlib", {"nnlib.layers.Tanh.forward": stub})
    out = carry(student)
    assert "stays the reference: your version fails its check" in out
    # The check's own message, as the student's notebook shows it.
    assert "losses.MSELoss.backward (04_single_layer_gradients): MSELoss.backward() = 2" in out, out
    assert "layers.Tanh.forward (03_forward_pass)" in out.split("you have not written it")[1]
    assert "layers.ReLU.forward (03_forward_pass)" in out.split("left as it is")[1]

    from autograder.carry_forward import carry_forward
    manifests = {path.stem: json.loads(path.read_text())
                 for path in (student / ".course").glob("*.json")}
    report = carry_forward(student, "05", manifests=manifests)  # the second run: same verdicts
    statuses = {entry.name: entry.status for entry in report.entries}
    assert statuses.pop("nnlib.losses.MSELoss.backward") == FAILED
    assert statuses.pop("nnlib.layers.Tanh.forward") == MISSING
    assert statuses.pop("nnlib.layers.ReLU.forward") == KEPT_EDIT
    assert set(statuses.values()) == {ALREADY} and len(statuses) == len(graded(EARLIER)) - 3
    assert report.backup is None and not report.by_status(CARRIED)

    edition = package_bodies(student / "exercises" / UNIT / "nnlib")
    reference = solution_bodies(set(EARLIER))
    assert edition["nnlib.losses.MSELoss.backward"][2] == reference["nnlib.losses.MSELoss.backward"]
    assert edition["nnlib.layers.Tanh.forward"][2] == reference["nnlib.layers.Tanh.forward"]
    assert edition["nnlib.layers.ReLU.forward"][2] == edit
    assert edition["nnlib.losses.MSELoss.forward"][2] == THEIRS["nnlib.losses.MSELoss.forward"]


def test_every_visible_check_passes_on_the_reference_editions(copy_template):
    # The checks decide what is carried: each must pass on the code it was released with, or a
    # correct student would be refused. Checks of units 01-04 on the edition of 05.
    from autograder.carry_forward import run_checks
    checks = [check for unit in EARLIER
              for check in json.loads((copy_template / ".course" / f"{unit}.json").read_text())["checks"]]
    assert {name for check in checks for name in check["functions"]} == set(graded(EARLIER))
    assert run_checks(copy_template / "exercises" / UNIT / "nnlib", checks) == {}
