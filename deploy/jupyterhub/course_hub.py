"""The course hub on one machine: its accounts, exchange and course folder, and the hub itself.

``make hub`` runs ``python course_hub.py start`` (as root): it creates the instructors' group and
three demo accounts (one instructor, two students, each with a generated password), the exchange,
the instructor's course folder, starts JupyterHub on 127.0.0.1 and prints how to log in; Ctrl-C
stops it. ``make hub-clean`` runs ``python course_hub.py clean``: the accounts, with their homes,
the group and the hub's folder go. ``tests/test_hub.py`` uses the same functions with accounts of
its own.
"""
import argparse
import grp
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
COURSE_ID = "nn-from-scratch"
COURSE_FOLDER = "course"
# Every account made here says so; `clean` removes only accounts carrying this mark.
ACCOUNT_MARK = "nn-course hub demo account"
DEMO_GROUP = "nn-instructors"
DEMO_INSTRUCTOR = "nndemo-instructor"
DEMO_STUDENTS = ("nndemo-student1", "nndemo-student2")
PROXY = HERE.parents[1] / ".venv" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
# The exchange's course folder: inbound/ is write-only for students (they cannot list it), sticky
# (nobody removes or renames another's folder) and setgid (every submission belongs to the
# instructors' group, which course_exchange.PrivateSubmit alone lets in).
INBOUND_MODE = 0o3773
EXCHANGE_ROOT_MODE = 0o1777  # nbgrader checks that every user may write here


def run(*command, **options):
    return subprocess.run(command, check=True, capture_output=True, text=True, **options)


def create_group(name):
    try:
        grp.getgrnam(name)
    except KeyError:
        run("groupadd", name)


def remove_group(name):
    try:
        grp.getgrnam(name)
    except KeyError:
        return
    run("groupdel", name)


def create_account(name, groups=()):
    """A local account with a private home and a generated password; returns the password."""
    try:
        pwd.getpwnam(name)
        raise SystemExit(f"the account {name} exists already: run `make hub-clean` first")
    except KeyError:
        pass
    command = ["useradd", "--create-home", "--shell", "/bin/bash", "--comment", ACCOUNT_MARK]
    if groups:
        command += ["--groups", ",".join(groups)]
    run(*command, name)
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    password = secrets.token_urlsafe(12)
    run("chpasswd", input=f"{name}:{password}\n")
    return password


def remove_account(name):
    """Removes ``name`` and its home, if it is one of ours (never any other account)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return
    if entry.pw_gecos.split(",")[0] != ACCOUNT_MARK:
        raise SystemExit(f"{name} is not a hub demo account; left alone")
    run("userdel", "--remove", name)


def as_user(name, command, cwd=None, environment=None, timeout=600):
    """``command`` run as the account ``name`` (no groups but its own), output captured."""
    entry = pwd.getpwnam(name)
    env = {"HOME": entry.pw_dir, "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
           "PATH": "/usr/bin:/bin", **(environment or {})}
    return subprocess.run(command, cwd=cwd or entry.pw_dir, env=env, user=name,
                          group=entry.pw_gid, extra_groups=os.getgrouplist(name, entry.pw_gid),
                          capture_output=True, text=True, timeout=timeout)


def prepare_exchange(exchange, instructor, group):
    """nbgrader's exchange at ``exchange``: the course's folders owned by the instructor."""
    exchange = Path(exchange)
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, EXCHANGE_ROOT_MODE)
    uid, gid = pwd.getpwnam(instructor).pw_uid, grp.getgrnam(group).gr_gid
    course = exchange / COURSE_ID
    for folder, mode in ((course, 0o755), (course / "outbound", 0o755),
                         (course / "inbound", INBOUND_MODE)):
        folder.mkdir(exist_ok=True)
        os.chown(folder, uid, gid)
        os.chmod(folder, mode)
    return exchange


def prepare_course(instructor):
    """The instructor's course folder, ``~/course``: the repository's tracked files, with an
    ``nbgrader_config.py`` pointing nbgrader at it. The ``autograder`` package stays the installed
    one (nbgrader puts its working folder first on sys.path, so a copy would stand in for it)."""
    entry = pwd.getpwnam(instructor)
    course = Path(entry.pw_dir) / COURSE_FOLDER
    tracked = run("git", "ls-files", "-z", cwd=REPO).stdout.split("\0")
    for relative in filter(None, tracked):
        source = REPO / relative
        if relative.startswith(("autograder/", "deploy/")) or not source.is_file():
            continue
        (course / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, course / relative)
    (course / "nbgrader_config.py").write_text(
        "from autograder.settings import configure\n\n"
        "c = get_config()  # noqa: F821\n"
        f"configure(c, root={str(course)!r})\n")
    run("chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", str(course))
    return course


def recipe(environment):
    """The copy of this folder in the course ``environment`` (made by `make hub-env`), readable by
    every account: the servers read their settings there, not in a checkout that may be private."""
    return Path(environment) / "share" / "nncourse-hub"


def start_hub(state, environment, exchange, users, group, port=8000, api_port=8081,
              proxy_api_port=8001, proxy=PROXY, api_token=None, log=None):
    """Starts JupyterHub (this process's child) and waits until it answers; returns the process.

    ``environment`` is the course environment every server runs in (a venv folder); ``api_token``
    lets a test drive the hub's REST API (a demo has none)."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    variables = {**os.environ, "NNCOURSE_HUB_STATE": str(state), "NNCOURSE_HUB_ENV": str(environment),
                 "NNCOURSE_EXCHANGE": str(exchange), "NNCOURSE_USERS": ",".join(users),
                 "NNCOURSE_INSTRUCTORS": group, "NNCOURSE_HUB_PORT": str(port),
                 "NNCOURSE_HUB_API_PORT": str(api_port), "NNCOURSE_PROXY_API_PORT": str(proxy_api_port),
                 "NNCOURSE_PROXY": str(proxy), "NNCOURSE_API_TOKEN": api_token or ""}
    log = open(log or state / "jupyterhub.log", "ab")
    hub = subprocess.Popen([str(Path(environment) / "bin" / "jupyterhub"), "-f",
                            str(recipe(environment) / "jupyterhub_config.py")], cwd=state,
                           env=variables,
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise RuntimeError(f"JupyterHub stopped at start-up (exit {hub.returncode}); "
                               f"see {log.name}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/api", timeout=2)
            return hub
        except OSError:
            time.sleep(0.3)
    stop_hub(hub)
    raise RuntimeError(f"JupyterHub did not answer within 60 s; see {log.name}")


def stop_hub(hub):
    """SIGTERM to the hub, which stops every user's server and the proxy it started."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()


def start_demo(folder, port):
    folder = Path(folder)
    if not PROXY.exists():
        raise SystemExit("configurable-http-proxy is missing: run `make proxy`")
    create_group(DEMO_GROUP)
    passwords = {DEMO_INSTRUCTOR: create_account(DEMO_INSTRUCTOR, groups=[DEMO_GROUP])}
    for student in DEMO_STUDENTS:
        passwords[student] = create_account(student)
    exchange = prepare_exchange(folder / "exchange", DEMO_INSTRUCTOR, DEMO_GROUP)
    course = prepare_course(DEMO_INSTRUCTOR)
    logins = folder / "demo-logins.txt"
    logins.write_text("".join(f"{user} {password}\n" for user, password in passwords.items()))
    os.chmod(logins, 0o600)
    started = time.monotonic()
    hub = start_hub(folder / "state", folder / "env", exchange, list(passwords), DEMO_GROUP, port)
    print(f"\nDEMO course hub at http://127.0.0.1:{port}/ (this machine only), up in "
          f"{time.monotonic() - started:.1f} s. Log in with a demo account (PAM: real local\n"
          f"accounts, generated passwords, also in {logins}):\n")
    for user, password in passwords.items():
        role = "instructor" if user == DEMO_INSTRUCTOR else "student"
        print(f"  {role:10}  {user:18}  {password}")
    print(f"\nThe instructor's course folder is {course}: Nbgrader > Formgrader releases\n"
          f"and collects, `autograder grade 04` in its terminal grades. Ctrl-C stops the hub;\n"
          f"`make hub-clean` removes the demo accounts and their homes, the hub's state and the\n"
          f"exchange (the environment, {folder / 'env'}, stays for the next `make hub`).")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as Ctrl-C does
    try:
        hub.wait()
    except KeyboardInterrupt:
        stop_hub(hub)


def clean_demo(folder):
    pid_file = Path(folder) / "state" / "jupyterhub.pid"
    if pid_file.exists() and Path(f"/proc/{pid_file.read_text().strip()}").exists():
        raise SystemExit(f"the demo hub is running (PID {pid_file.read_text().strip()}): "
                         "stop it first (Ctrl-C where `make hub` runs)")
    for user in (DEMO_INSTRUCTOR, *DEMO_STUDENTS):
        remove_account(user)
    remove_group(DEMO_GROUP)
    for part in ("state", "exchange", "demo-logins.txt"):
        path = Path(folder) / part
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "clean"])
    parser.add_argument("--dir", type=Path, required=True, help="the hub's folder (env/ inside)")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the course hub creates local accounts: run it as root")
    if arguments.action == "start":
        start_demo(arguments.dir, arguments.port)
    else:
        clean_demo(arguments.dir)


if __name__ == "__main__":
    main()
