"""Carry a student's own code of earlier units forward into a new unit's edition of ``nnlib``.

The edition of unit k holds the reference code for every earlier unit (those solutions were released).
``carry_forward(root, "05")`` replaces each such body with the student's own, taken from the folder of
the unit that asked for it (``exercises/03_forward_pass/nnlib/layers.py`` for ``Linear.forward``), once
the visible checks of earlier units pass on the new edition with the student's code in it. What it
does not carry stays the reference, so a student who failed unit 04 can still do unit 05:

- a body the student never wrote (still the stub), or whose file or region is gone: reference;
- a body whose visible check fails (run with the student's code of every other function carried):
  reference, with the check's message;
- a body the student already changed in the new unit's folder (work in progress): left as it is;
- a body already carried: nothing to do, so running it twice changes nothing.

Before it writes, the new unit's ``nnlib/`` is copied to ``backups/carry-forward/<unit>-<time>/``.

What it reads besides the student's folders is ``.course/<unit>.json`` (``manifest`` below): the
hashes of the bodies each edition was released with (to tell untouched code from edits) and the
visible checks of each unit (the test cells of its released notebook, with the functions each one
covers). Neither holds a solution that was not already released, so the tool works in the student
copy, which has no reference (``autograder release --student-copy``); in the course repository
``autograder carry-forward`` computes the same data from ``solutions/`` and ``nnlib/``.

This module needs only the standard library and ``regions`` (it is copied into the student copy as
``student_tools``, with ``regions.py``).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .regions import find_regions, module_name

MANIFEST_DIR = ".course"
BACKUP_DIR = Path("backups") / "carry-forward"
CHECK_SECONDS = 60  # a visible check running longer than this fails (an infinite loop, say)
_RESULTS_MARK = "@@carry-forward-results@@"

# Status of one function after a run, and what the report says about it.
CARRIED, ALREADY, KEPT_EDIT, MISSING, FAILED, UNCHECKED = (
    "carried", "already yours", "your edit kept", "missing", "failed its check", "no check")
REFERENCE_STATUSES = (MISSING, FAILED, UNCHECKED)


def body_hash(body):
    """The hash a manifest records for a region's body (its lines between the markers)."""
    return hashlib.sha256(body.encode()).hexdigest()


def region_bodies(source, path="<source>", prefix="nnlib"):
    """``{qualified name: (region, body text)}`` of every region of one module's ``source``."""
    lines = source.splitlines(keepends=True)
    return {f"{prefix}.{region.qualname}": (region, "".join(lines[region.begin:region.end - 1]))
            for region in find_regions(source, path)}


def package_bodies(package_dir):
    """``{qualified name: (relative file, region, body)}`` of every region of an ``nnlib`` folder."""
    package_dir = Path(package_dir)
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        module = module_name(path, package_dir.parent)
        relative = path.relative_to(package_dir.parent).as_posix()
        for name, (region, body) in region_bodies(path.read_text(), str(path), module).items():
            found[name] = (relative, region, body)
    return found


def is_stub(body):
    """True for a body that only raises ``NotImplementedError`` (what an edition hands out)."""
    code = [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]
    return not code or (len(code) == 1 and code[0].startswith("raise NotImplementedError"))


# ---------------------------------------------------------------------------------------------
# The manifest: what each unit was released with.

def manifest_path(root, unit):
    return Path(root) / MANIFEST_DIR / f"{unit}.json"


def read_manifests(root, units):
    """``{unit: manifest}`` of every unit in ``units`` that has one under ``root/.course/``."""
    found = {}
    for unit in units:
        path = manifest_path(root, unit)
        if path.is_file():
            found[unit] = json.loads(path.read_text())
    return found


def course_units(root):
    """Unit ids of the folders in ``root/exercises/``, in course order."""
    exercises = Path(root) / "exercises"
    return sorted(path.name for path in exercises.iterdir()
                  if path.is_dir() and len(path.name) > 3 and path.name[:2].isdigit()
                  and path.name[2] == "_")


def resolve_unit(root, unit):
    """``"05"`` or ``"05_backprop"`` -> ``"05_backprop"`` (a folder of ``root/exercises/``)."""
    units = course_units(root)
    matches = [name for name in units if name == unit or name.split("_", 1)[0] == unit]
    if len(matches) != 1:
        raise ValueError(f"no exercise {unit!r} in {Path(root) / 'exercises'}; the units are: "
                         f"{', '.join(units) or 'none'}")
    return matches[0]


# ---------------------------------------------------------------------------------------------
# Running the visible checks on a candidate library.

_RUNNER = r"""
import contextlib, io, json, os, signal, sys
sys.path.insert(0, os.getcwd())
cells = json.load(sys.stdin)
limit = int(sys.argv[1])

def _timeout(signum, frame):
    raise TimeoutError(f"it ran longer than {limit} s (an endless loop?)")

signal.signal(signal.SIGALRM, _timeout)
results = []
for cell in cells:
    captured = io.StringIO()
    try:
        signal.alarm(limit)
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            exec(compile(cell["source"], cell["grade_id"], "exec"), {"__name__": "__check__"})
        ok, message = True, ""
    except BaseException as error:
        # A failed check's message is for the student as it is; anything else says what it was.
        text = str(error).strip() if isinstance(error, AssertionError) else ""
        ok, message = False, (text or f"{type(error).__name__}: {error}".strip())[-600:]
    finally:
        signal.alarm(0)
    results.append({"grade_id": cell["grade_id"], "ok": ok, "message": message})
print(sys.argv[2] + json.dumps(results))
"""


def run_checks(package_dir, checks, python=None):
    """Run ``checks`` (dicts with ``grade_id`` and ``source``) in a fresh Python whose ``nnlib`` is
    ``package_dir``; ``{grade_id: message}`` of those that failed (each cell in its own namespace)."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    timeout = CHECK_SECONDS * (len(checks) + 1)
    try:
        done = subprocess.run([python or sys.executable, "-I", "-c", _RUNNER, str(CHECK_SECONDS),
                               _RESULTS_MARK], input=json.dumps(checks), text=True,
                              capture_output=True, cwd=Path(package_dir).parent, env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {check["grade_id"]: f"the checks ran longer than {timeout} s" for check in checks}
    lines = [line for line in done.stdout.splitlines() if line.startswith(_RESULTS_MARK)]
    if not lines:
        reason = (done.stderr.strip().splitlines() or ["the checks stopped without a result"])[-1]
        return {check["grade_id"]: reason for check in checks}
    results = json.loads(lines[-1][len(_RESULTS_MARK):])
    return {result["grade_id"]: result["message"] for result in results if not result["ok"]}


# ---------------------------------------------------------------------------------------------
# The run.

@dataclass
class Entry:
    name: str      # nnlib.functional.sigmoid
    unit: str      # the unit that asked for it
    status: str
    message: str = ""


@dataclass
class CarryReport:
    unit: str
    entries: list = field(default_factory=list)
    backup: Path = None    # the copy of nnlib/ made before writing (None: nothing written)
    written: list = field(default_factory=list)   # files changed

    def by_status(self, *statuses):
        return [entry for entry in self.entries if entry.status in statuses]

    def summary(self):
        lines = [f"Carrying your own code forward into {self.unit}:"]
        sections = [
            (CARRIED, "now your code (its checks pass)"),
            (ALREADY, "already your code"),
            (KEPT_EDIT, f"you changed it in {self.unit} already: left as it is"),
            (FAILED, "stays the reference: your version fails its check"),
            (MISSING, "stays the reference: you have not written it (or its file is gone)"),
            (UNCHECKED, "stays the reference: no visible check covers it"),
        ]
        for status, heading in sections:
            entries = self.by_status(status)
            if not entries:
                continue
            lines.append(f"  {heading}:")
            for entry in entries:
                short = entry.name.removeprefix("nnlib.")
                message = entry.message.replace("\n", "\n        ")  # a check's lines, indented
                lines.append(f"    {short} ({entry.unit})" + (f": {message}" if message else ""))
        if self.backup:
            lines.append(f"Your {self.unit}/nnlib as it was is in {self.backup}.")
        else:
            lines.append("Nothing changed.")
        return "\n".join(lines)


def _replace_bodies(source, path, new_bodies):
    """``source`` with the bodies of the regions named in ``new_bodies`` (qualname -> body) replaced."""
    lines = source.splitlines(keepends=True)
    for region in reversed(find_regions(source, path)):
        if region.qualname in new_bodies:
            lines[region.begin:region.end - 1] = [new_bodies[region.qualname]]
    return "".join(lines)


def _apply(package_root, targets, bodies):
    """Write ``bodies`` (qualified name -> body) into the files of ``targets`` under ``package_root``.
    Returns the relative paths changed."""
    per_file = {}
    for name, body in bodies.items():
        relative, region, _ = targets[name]
        per_file.setdefault(relative, {})[region.qualname] = body
    for relative, replacements in per_file.items():
        path = Path(package_root) / relative
        path.write_text(_replace_bodies(path.read_text(), str(path), replacements))
    return sorted(per_file)


def carry_forward(root, unit, manifests=None, python=None, now=None):
    """Bring the student's own code of every unit before ``unit`` into ``exercises/<unit>/nnlib``.

    ``root`` holds ``exercises/`` (a student copy, or the course repository); ``manifests`` maps
    unit ids to their manifest (default: read from ``root/.course/``). Returns a ``CarryReport``.
    """
    root = Path(root)
    unit = resolve_unit(root, unit)
    units = course_units(root)
    earlier = units[:units.index(unit)]
    manifests = manifests if manifests is not None else read_manifests(root, units)
    if unit not in manifests:
        raise FileNotFoundError(f"{manifest_path(root, unit)} is missing: it comes with the exercise "
                                "(ask for the unit's files again)")
    released = manifests[unit]["released"]
    target_root = root / "exercises" / unit
    targets = package_bodies(target_root / "nnlib")
    report = CarryReport(unit)
    checks, covered = [], {}
    for earlier_unit in earlier:
        for check in manifests.get(earlier_unit, {}).get("checks", []):
            key = f"{earlier_unit}:{check['grade_id']}"  # grade ids may repeat across units
            checks.append({"grade_id": key, "source": check["source"]})
            for name in check["functions"]:
                covered.setdefault(name, []).append(key)

    candidates, owners, parsed = {}, {}, {}
    for name, (relative, region, current) in targets.items():
        if region.unit not in earlier:
            continue
        owners[name] = region.unit
        theirs_path = root / "exercises" / region.unit / relative
        if (region.unit, relative) not in parsed:
            try:
                module = relative.removesuffix(".py").replace("/", ".")
                parsed[region.unit, relative] = (region_bodies(theirs_path.read_text(), str(theirs_path),
                                                               module)
                                                 if theirs_path.is_file() else {})
            except (SyntaxError, ValueError) as error:
                parsed[region.unit, relative] = error
        found = parsed[region.unit, relative]
        if isinstance(found, Exception):
            report.entries.append(Entry(name, region.unit, MISSING,
                                        f"{theirs_path.relative_to(root)} cannot be read ({found})"))
            continue
        theirs = found[name][1] if name in found else None
        if theirs is None or is_stub(theirs):
            report.entries.append(Entry(name, region.unit, MISSING))
        elif current == theirs:
            report.entries.append(Entry(name, region.unit, ALREADY))
        elif body_hash(current) != released.get(name):
            report.entries.append(Entry(name, region.unit, KEPT_EDIT))
        elif body_hash(theirs) == released.get(name):
            report.entries.append(Entry(name, region.unit, ALREADY))
        elif name not in covered:
            report.entries.append(Entry(name, region.unit, UNCHECKED))
        else:
            candidates[name] = theirs

    failed = {}
    with tempfile.TemporaryDirectory(prefix="carry-forward-") as scratch:
        trial = Path(scratch) / "nnlib"
        while candidates:
            shutil.rmtree(trial, ignore_errors=True)
            shutil.copytree(target_root / "nnlib", trial,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            _apply(scratch, targets, candidates)
            failures = run_checks(trial, checks, python)
            if not failures:
                break
            # A failing check sends the candidates it covers back to the reference, and the rest is
            # checked again: a check that failed only through one of them may pass now.
            guilty = {name: next(failures[grade_id] for grade_id in covered[name]
                                 if grade_id in failures)
                      for name in candidates if any(grade_id in failures for grade_id in covered[name])}
            if not guilty:  # only checks of functions not carried fail, and only with our code in
                reason = "; ".join(f"{grade_id}: {message}" for grade_id, message in failures.items())
                guilty = {name: f"with your code carried, other checks fail ({reason})"
                          for name in candidates}
            for name, message in guilty.items():
                failed[name] = message
                del candidates[name]
    for name, message in failed.items():
        report.entries.append(Entry(name, owners[name], FAILED, message))
    for name in candidates:
        report.entries.append(Entry(name, owners[name], CARRIED))
    order = {name: index for index, name in enumerate(targets)}
    report.entries.sort(key=lambda entry: (entry.unit, order[entry.name]))

    if candidates:
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H%M%SZ")
        backup = root / BACKUP_DIR / f"{unit}-{stamp}"
        shutil.copytree(target_root / "nnlib", backup / "nnlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        report.backup = backup.relative_to(root)
        report.written = _apply(target_root, targets, candidates)
    return report
