"""A class of hostile submissions, graded by real nbgrader, read back the way an instructor would.

Every attack in ``hostile.ATTACKS`` is appended to an otherwise untouched release: it tries to copy
the reference or a classmate over itself, leave a daemon that rewrites the grades after grading,
print every solution it can find into its feedback, phone home, and leave files behind. The class
is graded twice: as the user running the tests (root in CI) and as an ordinary user (``nobody``,
through ``unprivileged.py``), skipping that run with the reason where the machine does not allow it.

Read back: the CSV, the gradebook and the JSON (each hostile submission scores 0, the honest
reference full marks), every feedback page (no solution line of the unit or a later one), the
listener (heard nothing), the file system (no marker, submitted files byte-identical) and the
process table (nothing the submissions started is alive).
"""
import csv
import hashlib
import html
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import unprivileged
from autograder.course import UNIT_IDS
from autograder.regions import find_regions
from hostile import ATTACKS, UNIT, build_and_grade

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]
# The daemon strikes within 0.3 s of the grades appearing; give it ten times longer.
DAEMON_GRACE = 3.0


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection and what it was sent."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.heard = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, address = self.server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    self.heard.append((address, connection.recv(4096)))
                except OSError:
                    self.heard.append((address, b""))

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module", params=["grading_user", "unprivileged_user"])
def hostile(request):
    token = f"hostile-{secrets.token_hex(8)}"
    listener = Listener()
    scratch = Path(tempfile.mkdtemp(prefix="hostile-class-"))
    home = Path(os.path.expanduser("~"))
    try:
        if request.param == "grading_user":
            result = build_and_grade(scratch / "class", listener.port, token)
        else:
            reason = unprivileged.why_not()
            if reason:
                pytest.skip(f"hostile class as an ordinary user: {reason}")
            home = scratch / "home"
            home.mkdir()
            for path in (scratch, home):
                os.chown(path, unprivileged.NOBODY, unprivileged.NOBODY)
            run = unprivileged.run_as_nobody(
                [sys.executable, str(Path(__file__).parent / "hostile.py"), str(scratch / "class"),
                 str(listener.port), token], needed=[scratch], home=home, timeout=1200)
            assert run.returncode == 0, run.stderr[-4000:]
            result = json.loads(run.stdout.strip().splitlines()[-1])
        time.sleep(DAEMON_GRACE)
        listener.close()
        yield {**result, "mode": request.param, "token": token, "home": home, "heard": listener.heard}
    finally:
        listener.close() if listener.running else None
        shutil.rmtree(scratch, ignore_errors=True)


def csv_rows(hostile):
    with open(hostile["csv"]) as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_honest_submissions_grade_as_usual(hostile):
    rows = csv_rows(hostile)
    assert rows["reference"]["score"] == rows["reference"]["max_score"] == "14"
    assert rows["untouched_release"]["score"] == "0"
    assert hostile["isolation"].startswith("bubblewrap")


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_scores_zero_in_the_grade_table(hostile, attack):
    row = csv_rows(hostile)[attack]
    assert (row["score"], row["max_score"]) == ("0", "14"), row


def test_each_attack_scores_zero_in_the_gradebook_and_the_json(hostile):
    from nbgrader.api import Gradebook

    work = Path(hostile["work"])
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gradebook:
        scores = {name: gradebook.find_submission(UNIT, name).score for name in ATTACKS}
        reference = gradebook.find_submission(UNIT, "reference").score
    assert scores == dict.fromkeys(ATTACKS, 0.0) and reference == 14.0
    report = json.loads((work / "grades" / f"{UNIT}.json").read_text())
    saved = {student["student_id"]: sum(test["score"] for test in student["tests"])
             for student in report["students"]}
    assert {name: saved[name] for name in ATTACKS} == dict.fromkeys(ATTACKS, 0.0)


def unreleased_solution_lines():
    """Distinctive lines of every solution region of this unit and later ones (reference nnlib and
    solution notebooks), none of which the student's release contains."""
    later = set(UNIT_IDS[UNIT_IDS.index(UNIT):])
    lines = set()
    for path in REFERENCE_DIR.rglob("*.py"):
        source = path.read_text().splitlines()
        for region in find_regions(path.read_text(), str(path)):
            if region.unit in later:
                lines |= {line.strip() for line in source[region.begin:region.end - 1]}
    for unit in later:
        for path in (REPO / "solutions" / unit).glob("*.ipynb"):
            for cell in json.loads(path.read_text())["cells"]:
                text = "".join(cell["source"])
                if "### BEGIN SOLUTION" in text:
                    inside = text.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
                    lines |= {line.strip() for line in inside.splitlines()}
    released = "\n".join(path.read_text(errors="replace")
                         for path in (REPO / "exercises" / UNIT).rglob("*") if path.is_file())
    return {line for line in lines if len(line) >= 24 and line not in released}


def test_no_solution_line_appears_in_any_feedback_page(hostile):
    secret = unreleased_solution_lines()
    assert len(secret) > 100  # the check below has something to look for
    pages = list((Path(hostile["work"]) / "feedback").rglob("*.html"))
    assert any("prints_solutions" in str(page) for page in pages)
    for page in pages:
        text = html.unescape(page.read_text())
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{page}: {leaked[:3]}"


def test_the_listener_heard_nothing(hostile):
    assert hostile["heard"] == []


def test_no_file_is_left_behind(hostile):
    token = hostile["token"]
    places = [Path("/tmp"), Path(hostile["home"]), Path(hostile["work"]), REPO]
    left = [path for place in places for path in place.glob(f"{token}*")]
    left += [path for path in Path(hostile["work"]).rglob("*") if token in path.name]
    assert left == []


def digest(folder):
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def test_submitted_files_are_byte_identical_afterwards(hostile):
    submitted = Path(hostile["work"]) / "submitted"
    assert digest(submitted) == digest(hostile["submissions"])
    assert any("hostile" in path.read_text() for path in submitted.rglob("__init__.py"))


def test_nothing_a_submission_started_is_alive(hostile):
    alive = []
    for process in Path("/proc").iterdir():
        try:
            command = (process / "cmdline").read_bytes()
        except OSError:
            continue
        if hostile["token"].encode() in command:
            alive.append(process.name)
    assert alive == []
