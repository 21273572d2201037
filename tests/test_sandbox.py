"""The sandbox itself (``autograder.sandbox``), tried as an attacker would, with a bare control.

Each attack runs twice: bare, as the grading user would run it without the sandbox (the control:
it must succeed, or the test proves nothing), and inside ``sandbox.wrap`` (it must fail).
"""
import os
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.warm_kernel import KERNEL_FOLDER

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"


def run(code, tmp_path, sandboxed=True, timeout=60):
    """Run Python ``code`` on a copy of ``tmp_path/submission``: in the sandbox, or bare."""
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    command = [sys.executable, "-c", textwrap.dedent(code)]
    if sandboxed:
        command = sandbox.wrap(command, copy_from=folder, workdir="/submission")
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=timeout)


READ_THE_COURSE = f"""
    import os
    for path in [{str(REFERENCE_DIR)!r}, {str(REPO / 'solutions')!r}, {str(REPO / '.git')!r},
                 {str(REPO / 'exercises')!r}]:
        try:
            print(path, len(os.listdir(path)))
        except OSError as error:
            print(path, "hidden", type(error).__name__)
    try:
        print("home", *sorted(os.listdir({os.path.expanduser('~')!r})))
    except OSError:
        print("home")
"""


@pytest.mark.sandbox
def test_the_course_and_the_home_folder_do_not_exist_inside(tmp_path):
    bare = run(READ_THE_COURSE, tmp_path, sandboxed=False).stdout.splitlines()
    assert not bare[0].endswith("FileNotFoundError")  # control: the reference is readable
    inside = run(READ_THE_COURSE, tmp_path).stdout.splitlines()
    assert len(inside) == 5, inside
    assert all(line.endswith("hidden FileNotFoundError") for line in inside[:4]), inside
    # Of the home folder, at most the way to this Python (when it is installed there) is left.
    home = Path(os.path.expanduser("~")).resolve()
    python_paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
                    Path(os.path.realpath(sys.executable))}
    needed = {path.relative_to(home).parts[0] for path in python_paths if path.is_relative_to(home)}
    assert set(inside[4].split()[1:]) <= needed, inside[4]


@pytest.mark.sandbox
def test_no_network_reaches_the_host(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    port = server.getsockname()[1]
    code = f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"leak")
            print("connected")
        except OSError as error:
            print("refused", error)
    """
    try:
        assert run(code, tmp_path, sandboxed=False).stdout.startswith("connected")  # control
        server.accept()[0].close()
        assert run(code, tmp_path).stdout.startswith("refused")
        server.settimeout(1)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


def living(token):
    pids = []
    for process in Path("/proc").iterdir():
        try:
            if token.encode() in (process / "cmdline").read_bytes():
                pids.append(int(process.name))
        except (OSError, ValueError):
            continue
    return pids


@pytest.mark.sandbox
def test_a_daemon_dies_with_its_sandbox(tmp_path):
    token = f"daemon-{os.getpid()}-{time.monotonic_ns()}"
    code = f"""
        import os, sys
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                quiet = os.open(os.devnull, os.O_RDWR)  # lets the bare control's caller go on
                for descriptor in (0, 1, 2):
                    os.dup2(quiet, descriptor)
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", {token!r}])
            os._exit(0)
        os.wait()
    """
    run(code, tmp_path, sandboxed=False)
    started = living(token)
    assert started  # control: bare, the daemon outlives its parent
    for pid in started:  # the control's own daemon, ended by its PID
        os.kill(pid, 9)
    run(code, tmp_path)
    time.sleep(0.5)
    assert living(token) == []


@pytest.mark.sandbox
def test_writes_stay_inside_are_bounded_and_vanish(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "kept.txt").write_text("as submitted")
    marker = Path("/tmp") / f"sandbox-marker-{os.getpid()}"
    code = f"""
        import errno
        open("kept.txt", "w").write("changed")
        open({str(marker)!r}, "w").write("left behind")
        try:
            with open("/tmp/big", "wb") as handle:
                for _ in range(400):
                    handle.write(b"x" * 1024 ** 2)
            print("wrote 400 MB")
        except OSError as error:
            print("full", errno.errorcode[error.errno])
    """
    result = run(code, tmp_path)
    assert result.stdout.strip() == "full ENOSPC", result.stderr
    assert (tmp_path / "submission" / "kept.txt").read_text() == "as submitted"
    assert not marker.exists()


@pytest.mark.sandbox
def test_the_course_tools_are_there_and_the_reference_is_not(tmp_path):
    code = """
        import nncourse.widgets.playground, nncourse.plotting
        print("course tools")
        try:
            import nnlib
            print("nnlib from", nnlib.__file__)
        except ModuleNotFoundError:
            print("no nnlib")
    """
    result = run(code, tmp_path)
    assert result.stdout.splitlines() == ["course tools", "no nnlib"], result.stderr


@pytest.mark.sandbox
@pytest.mark.parametrize("package", sandbox.PACKAGE_DIRS, ids=lambda folder: folder.name)
def test_the_host_is_read_only_even_for_root_inside(tmp_path, package):
    target = package / "__init__.py"
    before = target.read_bytes()
    code = f"""
        import subprocess
        try:
            open({str(target)!r}, "a").write("# tampered")
            print("wrote")
        except OSError as error:
            print("refused", error.strerror)
        remount = subprocess.run(["mount", "-o", "remount,rw,bind", {str(package)!r}],
                                 capture_output=True)
        print("remounted" if remount.returncode == 0 else "remount refused")
        unshare = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True)
        print("new user namespace" if unshare.returncode == 0 else "no new user namespace")
    """
    lines = run(code, tmp_path).stdout.splitlines()
    assert lines == ["refused Read-only file system", "remount refused", "no new user namespace"]
    assert target.read_bytes() == before
    assert not stat.S_IMODE(target.stat().st_mode) & 0o002


@pytest.fixture
def machine_says(tmp_path, monkeypatch):
    """Make ``bwrap`` on PATH fail with a given message (``None``: no bwrap at all)."""
    def say(message):
        if message is None:
            monkeypatch.setenv("PATH", "/nonexistent")
        else:
            fake = tmp_path / "bin" / "bwrap"
            fake.parent.mkdir(exist_ok=True)
            fake.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
            fake.chmod(0o755)
            monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
        sandbox.problem.cache_clear()
    yield say
    sandbox.problem.cache_clear()


def test_problem_says_how_to_install_bubblewrap(machine_says):
    machine_says(None)
    assert "apt-get install bubblewrap" in sandbox.problem()
    with pytest.raises(sandbox.SandboxUnavailable, match="--no-sandbox"):
        sandbox.require()


def test_problem_names_user_namespaces_when_they_are_turned_off(machine_says):
    machine_says("bwrap: setting up uid map: Permission denied")
    message = sandbox.problem()
    assert "user namespaces" in message and "apparmor_restrict_unprivileged_userns" in message


def test_grade_refuses_to_start_without_a_sandbox(machine_says, capsys):
    from autograder.cli import main

    machine_says("bwrap: No permissions to creating new namespace")
    assert main(["grade", "04_single_layer_gradients"]) == 2
    error = capsys.readouterr().err
    assert "nothing was graded" in error and "--no-sandbox" in error and "namespaces" in error


@pytest.mark.slow  # grades a submission with real nbgrader (unsandboxed): not in `make test-fast`
def test_grading_without_the_sandbox_says_so_in_every_output(tmp_path):
    import csv
    import json
    import shutil

    from autograder.build import build_unit
    from autograder.grading import UnsandboxedGrading, grade

    unit = "01_linear_limits"
    release = build_unit(unit, tmp_path / "release", work_dir=tmp_path / "build")
    shutil.copytree(release, tmp_path / "submissions" / "alice" / unit)
    with pytest.warns(UnsandboxedGrading):
        report = grade(unit, submissions=tmp_path / "submissions", work_dir=tmp_path / "work",
                       progress=False, cell_timeout=10, sandboxed=False)
    summary = report.summary().splitlines()
    assert summary[0].startswith("WARNING: graded WITHOUT the sandbox")
    assert summary[-1] == summary[0]
    with open(report.csv_path) as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-1] == "isolation" and rows[1][-1] == "none (--no-sandbox)"
    saved = json.loads((tmp_path / "work" / "grades" / f"{unit}.json").read_text())
    assert saved["isolation"].startswith("graded WITHOUT the sandbox")


WRITE_EVERYWHERE = """
import os
writable = []
for folder, dirs, files in os.walk("/"):
    dirs[:] = [name for name in dirs if os.path.join(folder, name) not in ("/proc", "/sys")]
    try:
        with open(os.path.join(folder, "left-behind"), "w") as handle:
            handle.write("x")
        writable.append(folder)
    except OSError:
        pass
print(sorted(writable))
"""


@pytest.mark.sandbox
def test_the_grading_kernel_can_write_nothing_on_the_host(tmp_path):
    """Started as nbgrader starts it, the kernel finds no writable folder but its own tmpfs."""
    import ast
    import asyncio

    from autograder.grading_kernel import SandboxedKernelManager

    (tmp_path / "submission").mkdir()

    async def attempt():
        manager = SandboxedKernelManager(kernel_name="python3")
        await manager.start_kernel(cwd=str(tmp_path / "submission"))
        private = Path(manager.connection_file).parent
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive(WRITE_EVERYWHERE, timeout=60,
                                                     output_hook=lambda message: outputs.append(message))
            assert reply["content"]["status"] == "ok", reply["content"]
            return sorted(path.name for path in private.iterdir())
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    outputs = []
    left_in_private_folder = asyncio.run(attempt())
    printed = "".join(message["content"].get("text", "") for message in outputs
                      if message["msg_type"] == "stream")
    # Its working folder: the host's path (a cold kernel) or the warm kernel's own, each a tmpfs.
    inside_tmpfs = ("/tmp", "/dev/shm", str(tmp_path / "submission"), KERNEL_FOLDER)
    writable = ast.literal_eval(printed.strip())
    assert writable and all(path.startswith(inside_tmpfs) for path in writable), writable
    assert left_in_private_folder == ["connection.json"]
    assert not (tmp_path / "submission" / "left-behind").exists()
