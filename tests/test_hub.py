"""The course hub end to end, with real accounts and real processes (deploy/jupyterhub/).

Three local accounts (an instructor in the instructors' group, two students) and nbgrader's exchange
laid out by ``course_hub.py``; JupyterHub starts with the recipe's configuration. The instructor
releases unit 04; each student's own server (running as that student) fetches it, the student
changes their ``nnlib`` (alice the reference, bob an MSE gradient without the 1/n) and submits:
alice by clicking in the Assignments tab of JupyterLab in headless Chromium, bob through the
server's REST API. bob then tries to reach alice's submission, to submit as her and, once feedback
is out, to reach hers: each is refused. The instructor collects, grades with ``autograder grade``
(in the sandbox), rebuilds and releases the feedback; each student fetches theirs and finds their
own score and, for bob, the failed test's message.

Root only (accounts are created, servers switch to them), with the hub's environment (``make
hub-env``), configurable-http-proxy (``make proxy``), bubblewrap and Chromium; otherwise skipped
with the reason. Every process started is stopped by its PID, every account made is removed.
"""
import html
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from simulated_class import make_submission

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy" / "jupyterhub"))
import course_hub  # noqa: E402 (deploy/jupyterhub is no package)

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

UNIT = "04_single_layer_gradients"
COURSE_ID = course_hub.COURSE_ID
HUB_ENV = Path(os.environ.get("HUB_DIR", "/srv/nn-course-hub")) / "env"  # the Makefile's HUB_DIR
GROUP = "nnhubtest-instructors"
INSTRUCTOR, ALICE, BOB = "nnhubtest-teacher", "nnhubtest-alice", "nnhubtest-bob"
WRONG_GRADIENT = [("losses", "MSELoss.backward", "return 2.0 * (pred - target)")]
FAILED_TEST, FAILED_MESSAGE = "test_mse_backward", "times too large"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def why_not():
    if os.geteuid() != 0:
        return "the hub test creates local accounts and switches to them: it needs root"
    if not (HUB_ENV / "bin" / "jupyterhub").exists():
        return f"the hub's environment {HUB_ENV} is missing: run `make hub-env` (root)"
    if not (course_hub.recipe(HUB_ENV) / "jupyterhub_config.py").exists():
        return f"the hub's settings are missing from {HUB_ENV}: run `make hub-env` (root)"
    if not course_hub.PROXY.exists():
        return "configurable-http-proxy is missing: run `make proxy` (needs node and npm)"
    for tool in ("bwrap", "chromium", "useradd", "userdel", "chpasswd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed here"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing"
    return ""


if why_not():
    pytest.skip(why_not(), allow_module_level=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hub:
    """The running hub: its address, the test's token and the exchange's folders."""

    def __init__(self, url, token, exchange, course):
        self.url, self.token, self.exchange, self.course = url, token, exchange, course
        # As in the instructor's server: the course environment and the hub's nbgrader settings.
        self.instructor_environment = {
            "JUPYTER_CONFIG_PATH": str(course_hub.recipe(HUB_ENV) / "config" / "common"),
            "NNCOURSE_EXCHANGE": str(exchange), "PATH": f"{HUB_ENV / 'bin'}:/usr/bin:/bin",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

    def instructor(self, *command):
        """``command`` run as the instructor, in their course folder; its output."""
        result = course_hub.as_user(INSTRUCTOR, [str(HUB_ENV / "bin" / command[0]), *command[1:]],
                                    cwd=self.course, environment=self.instructor_environment)
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])
        return result.stdout + result.stderr

    def api(self, path, method="GET", data=None, server_of=None):
        """The hub's REST API, or with ``server_of`` that user's own server's."""
        prefix = f"/user/{server_of}" if server_of else "/hub/api"
        body = None if data is None else urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.url + prefix + path, data=body, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=300) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def start_servers(self, *users):
        """Starts the users' servers (all at once) and waits until each answers."""
        for user in users:
            self.api(f"/users/{user}/server", method="POST", data={})
        for user in users:
            self.wait_for_server(user)

    def wait_for_server(self, user):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.api(f"/users/{user}")["servers"].get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start")

    def assignment_action(self, user, action):
        """fetch, submit or fetch_feedback, as the student's server does when a button is clicked."""
        answer = self.api(f"/assignments/{action}", method="POST", server_of=user,
                          data={"course_id": COURSE_ID, "assignment_id": UNIT})
        assert answer["success"], answer
        return answer

    @property
    def inbound(self):
        return self.exchange / COURSE_ID / "inbound"

    @property
    def feedback(self):
        return self.exchange / COURSE_ID / "feedback"


def refused(user, code):
    """True when ``code`` (Python) run as ``user`` ends in a PermissionError."""
    result = course_hub.as_user(user, [str(HUB_ENV / "bin" / "python"), "-c", code])
    return result.returncode != 0 and "PermissionError" in result.stderr


def home(user):
    return Path(pwd.getpwnam(user).pw_dir)


@pytest.fixture(scope="module")
def hub():
    for user in (INSTRUCTOR, ALICE, BOB):  # an earlier run that could not clean up
        course_hub.remove_account(user)
    course_hub.remove_group(GROUP)
    scratch = Path(tempfile.mkdtemp(prefix="nnhubtest-"))
    os.chmod(scratch, 0o755)  # every account reaches the exchange inside
    hub_process = None
    try:
        course_hub.create_group(GROUP)
        passwords = {INSTRUCTOR: course_hub.create_account(INSTRUCTOR, groups=[GROUP]),
                     ALICE: course_hub.create_account(ALICE), BOB: course_hub.create_account(BOB)}
        exchange = course_hub.prepare_exchange(scratch / "exchange", INSTRUCTOR, GROUP)
        course = course_hub.prepare_course(INSTRUCTOR)
        token, port = secrets.token_hex(32), free_port()
        started = time.monotonic()
        hub_process = course_hub.start_hub(
            scratch / "state", HUB_ENV, exchange, list(passwords), GROUP, port=port,
            api_port=free_port(), proxy_api_port=free_port(), api_token=token)
        print(f"hub started in {time.monotonic() - started:.1f} s")
        yield Hub(f"http://127.0.0.1:{port}", token, exchange, course), passwords
    finally:
        left_running = []
        if hub_process is not None:
            proxy_pid_file = scratch / "state" / "proxy.pid"
            proxy_pid = int(proxy_pid_file.read_text()) if proxy_pid_file.exists() else None
            course_hub.stop_hub(hub_process)  # and with it every user's server and the proxy
            if proxy_pid and Path(f"/proc/{proxy_pid}").exists():
                os.kill(proxy_pid, signal.SIGTERM)
                left_running.append(f"the proxy ({proxy_pid})")
        for user in (INSTRUCTOR, ALICE, BOB):
            # userdel refuses an account with a process left: a server the hub did not stop.
            try:
                course_hub.remove_account(user)
            except subprocess.CalledProcessError as error:
                left_running.append(f"{user}: {error.stderr.strip()}")
        course_hub.remove_group(GROUP)
        shutil.rmtree(scratch)
        assert not left_running, left_running


def work_on_unit(student, reference_copy, regions=()):
    """The student's changes to their fetched folder: their nnlib (the reference's, with the
    ``regions`` rewritten), written as root and handed back to the student."""
    fetched = home(student) / UNIT
    work = make_submission(fetched, reference_copy / student, regions=regions)
    shutil.copytree(work / "nnlib", fetched / "nnlib", dirs_exist_ok=True)
    entry = pwd.getpwnam(student)
    for path in [fetched, *fetched.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def click_fetch_and_submit(hub, user, password, reference_copy, screenshots):
    """Log in as ``user``, fetch the unit in the Assignments tab, change nnlib, submit: by clicking."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(60_000)
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{user}/lab**", timeout=90_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
            item = page.locator(".lm-Menu-itemLabel", has_text="Assignment List")
            item.wait_for()
            shown = [label for label in page.locator(".lm-Menu-itemLabel").all_inner_texts() if label]
            assert shown == ["Assignment List"], shown  # no formgrader, course list or creation
            item.click()
            released = page.locator("#released_assignments_list")
            released.locator(f"text={UNIT}").wait_for()
            page.screenshot(path=screenshots / "released.png")
            released.locator("button", has_text="Fetch").click()
            fetched = page.locator("#fetched_assignments_list")
            fetched.locator(f"text={UNIT}").first.wait_for()
            work_on_unit(user, reference_copy)
            fetched.locator("button", has_text="Submit").click()
            page.locator("#submitted_assignments_list").locator(f"text={UNIT}").first.wait_for()
            page.screenshot(path=screenshots / "submitted.png")
        finally:
            browser.close()


def own_submission(hub, student):
    """The student's folder in inbound/ (found as root: students cannot list inbound/)."""
    folders = [path for path in hub.inbound.iterdir()
               if path.name.startswith(f"{student}+{UNIT}+") and path.stat().st_uid
               == pwd.getpwnam(student).pw_uid]
    assert len(folders) == 1, folders
    return folders[0]


def test_release_submit_grade_and_feedback_through_the_hub(hub, tmp_path):
    hub, passwords = hub
    begun = time.monotonic()
    reference_copy = tmp_path / "reference"

    timings = {}

    def lap(what):
        timings[what] = time.monotonic() - begun - sum(timings.values())

    # The instructor's server has the formgrader, on their course; a student's has none.
    hub.start_servers(INSTRUCTOR, ALICE, BOB)
    units = hub.api("/formgrader/api/assignments", server_of=INSTRUCTOR)
    assert UNIT in [unit["name"] for unit in units]
    with pytest.raises(urllib.error.HTTPError) as no_formgrader:
        hub.api("/formgrader/api/assignments", server_of=BOB)
    assert no_formgrader.value.code == 404
    lap("servers")
    output = hub.instructor("nbgrader", "release_assignment", UNIT)
    assert (hub.exchange / COURSE_ID / "outbound" / UNIT / f"{UNIT}.ipynb").is_file(), output

    # alice: the Assignments tab, by clicking; bob: his server's REST API, as the tab does.
    click_fetch_and_submit(hub, ALICE, passwords[ALICE], reference_copy, tmp_path)
    lap("browser")
    listed = hub.api(f"/assignments?course_id={COURSE_ID}", server_of=BOB)
    assert [entry["assignment_id"] for entry in listed["value"]] == [UNIT]
    hub.assignment_action(BOB, "fetch")
    work_on_unit(BOB, reference_copy, regions=WRONG_GRADIENT)
    hub.assignment_action(BOB, "submit")

    # bob against alice's submission: list, read, change, remove; then submit in her name.
    alices = own_submission(hub, ALICE)
    notebook = alices / f"{UNIT}.ipynb"
    assert refused(BOB, f"import os; os.listdir({str(hub.inbound)!r})")
    assert refused(BOB, f"open({str(notebook)!r}).read()")
    assert refused(BOB, f"open({str(notebook)!r}, 'a').write('x')")
    assert refused(BOB, f"open({str(alices / 'extra.py')!r}, 'w')")
    assert refused(BOB, f"import shutil; shutil.rmtree({str(alices)!r})")
    assert refused(BOB, f"import os; os.rename({str(alices)!r}, {str(alices) + 'x'!r})")
    assert refused(BOB, f"import os; os.listdir({str(home(ALICE))!r})")  # her copy and secret
    forged = course_hub.as_user(BOB, [str(HUB_ENV / "bin" / "nbgrader"), "submit", UNIT,
                                      f"--student={ALICE}", f"--course={COURSE_ID}"],
                                environment={"JUPYTER_CONFIG_PATH": str(
                                    course_hub.recipe(HUB_ENV) / "config" / "common"),
                                             "NNCOURSE_EXCHANGE": str(hub.exchange)})
    assert forged.returncode == 0, forged.stderr[-2000:]  # inbound/ takes it; collect refuses it

    lap("bob and his attempts")
    output = hub.instructor("nbgrader", "collect", UNIT)
    assert f"claims to be {ALICE}'s submission but was made by {BOB}" in output, output
    submitted = hub.course / "submitted"
    assert sorted(path.name for path in submitted.iterdir()) == [ALICE, BOB]
    assert ((submitted / ALICE / UNIT / "timestamp.txt").read_text()
            == (alices / "timestamp.txt").read_text())  # hers, not the forged one

    if importlib.util.find_spec("autograder.course_folder"):
        hub.instructor("autograder", "grade", UNIT, "--jobs", "2")
    else:  # an autograder that grades only its own checkout: the same grading, on this folder
        hub.instructor("python", "-c", "import sys; from autograder.grading import grade; "
                   f"grade({UNIT!r}, work_dir=sys.argv[1], root=sys.argv[1], jobs=2, "
                   "progress=False)", str(hub.course))
    lap("collect and grade")
    grades = json.loads((hub.course / "grades" / f"{UNIT}.json").read_text())
    assert "WITHOUT" not in grades["isolation"]
    students = {student["student_id"]: student for student in grades["students"]}
    lost = {name: [test["name"] for test in student["tests"] if test["score"] < test["max_score"]]
            for name, student in students.items()}
    assert lost == {ALICE: [], BOB: [FAILED_TEST]}
    hub.instructor("nbgrader", "generate_feedback", UNIT, "--force")
    hub.instructor("nbgrader", "release_feedback", UNIT)

    # bob against the feedback: the folder cannot be listed, alice's page cannot be changed.
    assert refused(BOB, f"import os; os.listdir({str(hub.feedback)!r})")
    pages = list(hub.feedback.glob("*.html"))
    assert len(pages) == 4  # per student, the graded notebook and the summary page
    for page in pages:
        assert refused(BOB, f"open({str(page)!r}, 'a').write('x')")
    assert refused(BOB, f"open({str(hub.feedback / 'forged.html')!r}, 'w')")

    for student in (ALICE, BOB):
        hub.assignment_action(student, "fetch_feedback")
        [page] = (home(student) / UNIT / "feedback").glob(f"*/{UNIT}.html")
        text = page.read_text()
        tests = students[student]["tests"]
        points, maximum = (sum(test[key] for test in tests) for key in ("score", "max_score"))
        assert f"{UNIT} (Score: {points:.1f} / {maximum:.1f})" in text, student
        failed = [test for test in tests if test["score"] < test["max_score"]]
        for test in failed:
            assert (f'<a href="#{test["name"]}">Test cell</a> (Score: {test["score"]:.1f} / '
                    f'{test["max_score"]:.1f})') in text
            assert FAILED_MESSAGE in test["message"]
            assert html.escape(test["message"].splitlines()[0], quote=False) in text, text[-5000:]
        assert len(failed) == (student == BOB)
    lap("feedback")
    print(f"release to fetched feedback in {time.monotonic() - begun:.1f} s:",
          ", ".join(f"{what} {seconds:.1f} s" for what, seconds in timings.items()))
