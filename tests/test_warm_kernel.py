"""Warm grading kernels (``autograder.warm_kernel``), tried as an attacker would.

Every kernel below is forked by one kernel server, as a grading worker's kernels are, one after
the other. What one kernel leaves (files, processes, shared memory, sockets) must be gone for the
next; no kernel holds a capability, can make a user namespace, or can see the server.
"""
import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import sandbox, warm_kernel
from autograder.grading_kernel import SandboxedKernelManager
from autograder.stopping import descendants

REPO = Path(__file__).resolve().parents[1]
COURSE = [str(REPO / "nnlib"), str(REPO / "solutions"), str(REPO / ".git")]  # out of sight

pytestmark = pytest.mark.sandbox


def execute(folder, *sources, timeout=60):
    """Run each source as a cell of a notebook in a grading kernel working on a copy of
    ``folder``; the notebook, with its outputs."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(source))
                                               for source in sources])
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   kernel_manager_class=SandboxedKernelManager,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def run_cells(folder, *sources, timeout=60):
    """Run each source as a cell of a notebook in a grading kernel working on a copy of
    ``folder``; the text each cell printed."""
    notebook = execute(folder, *sources, timeout=timeout)
    return ["".join(output.get("text", "") for output in cell.outputs) + "".join(
        f"{output.get('ename')}: {output.get('evalue')}" for output in cell.outputs
        if output.output_type == "error") for cell in notebook.cells]


def report(code):
    """A cell printing the JSON of the dict ``found`` its ``code`` fills."""
    return "import json\nfound = {}\n" + textwrap.dedent(code) + "\nprint(json.dumps(found))"


LOOK_AROUND = report("""
    import ctypes, os, socket, sys
    status = open("/proc/self/status").read()
    found["warm"] = "numpy" in sys.modules and "matplotlib.pyplot" in sys.modules
    found["pid"] = os.getpid()
    found["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found["capabilities"] = [line.split()[1] for line in status.splitlines() if line.startswith("Cap")]
    found["no_new_privs"] = [line.split()[1] for line in status.splitlines()
                             if line.startswith("NoNewPrivs")]
    found["cwd"] = os.getcwd()
    found["files"] = sorted(os.listdir("."))
    found["hostname"] = socket.gethostname()
    libc = ctypes.CDLL(None, use_errno=True)
    found["user_namespace"] = libc.unshare(0x10000000) == 0  # CLONE_NEWUSER
    found["mount_namespace"] = libc.unshare(0x00020000) == 0  # CLONE_NEWNS
    found["course"] = [path for path in COURSE if os.path.exists(path)]
""")


@pytest.fixture
def server():
    """This process's kernel server, as a grading worker has one (started again if a test ended
    it)."""
    try:
        return warm_kernel.server()
    except warm_kernel.KernelServerUnavailable as error:
        pytest.fail(f"the sandbox works here, so the kernel server must: {error}")  # a bug


def test_a_kernel_is_warm_alone_and_without_privileges(tmp_path, server):
    (tmp_path / "handed_in.txt").write_text("mine")
    printed = run_cells(tmp_path, f"COURSE = {COURSE!r}", LOOK_AROUND)[1]
    found = json.loads(printed)
    assert found["warm"]  # imported before its first line ran
    assert found["pid"] == 1 and found["processes"] == [1]  # alone in its PID namespace
    assert set(found["capabilities"]) == {"0000000000000000"}
    assert found["no_new_privs"] == ["1"]
    assert not found["user_namespace"] and not found["mount_namespace"]
    assert found["cwd"] == warm_kernel.KERNEL_FOLDER and found["files"] == ["handed_in.txt"]
    assert found["hostname"] == "sandbox"
    assert found["course"] == []
    assert (tmp_path / "handed_in.txt").read_text() == "mine"  # only a copy was in reach


LEAVE_TRAPS = report("""
    import ctypes, os, socket, sys, time
    for folder in ["/tmp", "/dev/shm", os.path.expanduser("~"), "."]:
        try:
            with open(os.path.join(folder, "left-by-alice"), "w") as handle:
                handle.write("alice's solution")
            found[folder] = "written"
        except OSError as error:
            found[folder] = type(error).__name__
    libc = ctypes.CDLL(None, use_errno=True)
    found["shared_memory"] = libc.shmget(4711, 4096, 0o1666)  # IPC_CREAT | 0666
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\\0left-by-alice")
    listener.listen()
    if os.fork() == 0:  # a daemon that would hand the next student whatever it is asked
        os.setsid()
        if os.fork() == 0:
            while True:
                connection, _ = listener.accept()
                connection.sendall(b"alice's solution")
                connection.close()
        os._exit(0)
    os.wait()
    time.sleep(0.2)
    found["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
""")

FIND_TRAPS = report("""
    import ctypes, os, socket
    found["files"] = [folder for folder in ["/tmp", "/dev/shm", os.path.expanduser("~"), "."]
                      if os.path.exists(os.path.join(folder, "left-by-alice"))]
    libc = ctypes.CDLL(None, use_errno=True)
    found["shared_memory"] = libc.shmget(4711, 4096, 0o666)  # without IPC_CREAT: -1 if absent
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            client.connect("\\0left-by-alice")
            found["socket"] = client.recv(100).decode()
    except OSError as error:
        found["socket"] = type(error).__name__
    found["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
""")


def test_nothing_one_kernel_leaves_reaches_the_next(tmp_path, server):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice.mkdir()
    bob.mkdir()
    left = json.loads(run_cells(alice, LEAVE_TRAPS)[0])
    # The traps were laid (the control: else the next kernel's finding nothing proves nothing).
    assert all(left[folder] == "written" for folder in ["/tmp", "/dev/shm", "."]), left
    assert left["shared_memory"] >= 0 and len(left["processes"]) >= 2
    assert server.alive()
    found = json.loads(run_cells(bob, FIND_TRAPS)[0])
    assert found == {"files": [], "shared_memory": -1, "socket": "ConnectionRefusedError",
                     "processes": [1]}
    assert not (alice / "left-by-alice").exists()
    # On the host, nothing of alice's kernel is alive: only the server's own processes.
    assert all("left-by-alice" not in _command_line(pid)
               for pid in descendants(server.process.pid))


def _command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_a_kernel_that_kills_all_it_can_harms_only_itself(tmp_path, server):
    before = server.process.pid
    outputs = run_cells(tmp_path, "import os, signal, subprocess, sys\n"
                        "helper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                        "os.kill(-1, signal.SIGKILL)\nprint('alive', helper.wait())",
                        "print(os.getpid())")
    assert outputs == ["alive -9\n", "1\n"]  # kill(-1) reaches every process but the caller
    assert server.alive() and server.process.pid == before
    assert json.loads(run_cells(tmp_path, f"COURSE = {COURSE!r}", LOOK_AROUND)[1])["warm"]


def test_a_dead_server_is_started_again(tmp_path):
    old = warm_kernel.server()
    old.process.kill()
    old.process.wait()
    assert run_cells(tmp_path, "print(6 * 7)") == ["42\n"]
    assert warm_kernel.server() is not old and warm_kernel.server().alive()


def test_the_server_holds_no_capability_outside_its_sandbox_and_cannot_be_read(server):
    pid = next(pid for pid in descendants(server.process.pid)
               if "autograder.warm_kernel" in _command_line(pid))
    status = Path(f"/proc/{pid}/status").read_text()
    assert "NSpid" in status and len(next(line for line in status.splitlines()
                                          if line.startswith("NSpid")).split()) >= 3
    # Not dumpable: its memory and environment are not readable through /proc by its uid
    # (root reads anything; the check means something for an ordinary grading user).
    if os.geteuid() != 0:
        with pytest.raises(PermissionError):
            Path(f"/proc/{pid}/environ").read_bytes()
    assert sandbox.problem() == ""


PLOTS = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"


def shown(notebook):
    """The kinds of data each figure (or other display) of the notebook's first cell came as."""
    return [sorted(output.get("data", {})) for output in notebook.cells[0].outputs
            if output.output_type == "display_data"]


@pytest.fixture
def inline_figures(monkeypatch):
    """Kernels on matplotlib's inline backend, as an instructor's grading run has them (the tests
    otherwise pass on ``MPLBACKEND=Agg``), from a server started for them."""
    monkeypatch.delenv("MPLBACKEND", raising=False)
    server = warm_kernel.running()
    if server is not None:
        server.close()
    yield warm_kernel.server()
    monkeypatch.undo()
    warm_kernel.server().close()  # the next test's server has the tests' environment again


def test_a_warm_kernel_shows_a_figure_as_a_cold_one_does(tmp_path, inline_figures, monkeypatch):
    """The inline backend hooks into IPython when it is imported, so the server must leave that
    import to the kernel: else plt.show() shows nothing, or only "<Figure ...>"."""
    assert shown(execute(tmp_path, PLOTS)) == [["image/png", "text/plain"]]
    monkeypatch.setenv("AUTOGRADER_WARM_KERNELS", "0")
    assert shown(execute(tmp_path, PLOTS)) == [["image/png", "text/plain"]]  # the control


def test_turned_off_kernels_start_cold(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_WARM_KERNELS", "0")
    with pytest.raises(warm_kernel.KernelServerUnavailable, match="AUTOGRADER_WARM_KERNELS"):
        warm_kernel.server()
    printed = run_cells(tmp_path, "import os, sys\nprint(os.getcwd(), 'numpy' in sys.modules)")
    assert printed == [f"{tmp_path} False\n"]  # a fresh interpreter, at the host's path


# Appended to alice's nnlib/__init__.py: her complete nnlib, left where the next kernel might look.
LAYS_A_TRAP = '''
import glob as _glob, os as _os, socket as _socket
_mine = {_os.path.basename(p): open(p).read() for p in _glob.glob(_os.path.join(_os.path.dirname(__file__), "*.py"))}
for _folder in ["/tmp/trap", "/dev/shm/trap", _os.path.expanduser("~/trap")]:
    try:
        _os.makedirs(_folder, exist_ok=True)
        for _name, _text in _mine.items():
            open(_os.path.join(_folder, _name), "w").write(_text)
        print("TRAP LAID IN", _folder)
    except OSError:
        pass
try:
    _listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    _listener.bind("\\0trap")
    _listener.listen()
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            while True:
                _connection, _ = _listener.accept()
                _connection.sendall(repr(_mine).encode())
                _connection.close()
        _os._exit(0)
    _os.wait()
    print("TRAP LAID ON A SOCKET")
except OSError:
    pass
'''

# Appended to bob's (an untouched release): whatever alice left, shown in his feedback page.
SPRINGS_A_TRAP = '''
import glob as _glob, os as _os, socket as _socket
for _path in _glob.glob("/tmp/trap/*") + _glob.glob("/dev/shm/trap/*") + _glob.glob(_os.path.expanduser("~/trap/*")):
    print("FOUND LEFT BEHIND", _path, open(_path).read()[:200])
try:
    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM) as _client:
        _client.settimeout(2)
        _client.connect("\\0trap")
        print("FOUND LEFT BEHIND on a socket", _client.recv(200))
except OSError:
    pass
'''


@pytest.mark.slow
def test_a_submission_finds_nothing_the_one_graded_before_it_left(tmp_path):
    """Graded by one worker, one after the other: alice lays traps in every place her kernel can
    write and leaves a daemon serving her code; bob, next in the same worker, looks for them.
    Read back as an instructor would: bob's feedback page."""
    import html

    from autograder.build import build_unit
    from autograder.grading import grade
    from simulated_class import make_submission

    unit = "04_single_layer_gradients"
    release = build_unit(unit, tmp_path / "release", work_dir=tmp_path / "build", root=REPO)
    for student, reference, trap in [("alice", True, LAYS_A_TRAP), ("bob", False, SPRINGS_A_TRAP)]:
        folder = make_submission(release, tmp_path / "submissions" / student / unit,
                                 reference=reference)
        init = folder / "nnlib" / "__init__.py"
        init.write_text(init.read_text() + trap)
    report = grade(unit, submissions=tmp_path / "submissions", work_dir=tmp_path / "work",
                   root=REPO, progress=False, jobs=1)
    pages = {student: html.unescape((tmp_path / "work" / "feedback" / student / unit /
                                     f"{unit}.html").read_text()) for student in ("alice", "bob")}
    # The control: alice's traps were laid (else bob's finding nothing proves nothing).
    assert "TRAP LAID IN /tmp/trap" in pages["alice"] and "TRAP LAID ON A SOCKET" in pages["alice"]
    assert "FOUND LEFT BEHIND" not in pages["bob"]
    scores = {student.student_id: student.score for student in report.students}
    assert scores["alice"] == max(student.max_score for student in report.students)
    assert scores["bob"] == 0


# ---------------------------------------------------------------- the judge's child, warm

JUDGED = "nnlib.functional.sigmoid_derivative"
RIGHT_ANSWER = "s = sigmoid(z)\nreturn s * (1 - s)"


def judged_submission(folder, checks):
    """A submission whose judged function answers right only if ``checks`` (code setting
    ``ok``) finds what it looks for: the verdict tells what the judge's child saw."""
    from test_judge import submission

    body = f"import ctypes, os, socket\nok = True\n{textwrap.dedent(checks)}\n" \
           f"if not ok:\n    return sigmoid(z)\n{RIGHT_ANSWER}"
    return submission(folder, body=body, wrong=False)


def test_a_judge_is_forked_warm_alone_and_without_privileges(tmp_path, server, monkeypatch):
    from autograder.judge import Limits, judge_function

    folder = judged_submission(tmp_path, f"""
        status = open("/proc/self/status").read()
        ok = ok and b"autograder.warm_kernel" in open("/proc/1/cmdline", "rb").read()  # warm
        ok = ok and all(line.split()[1] == "0000000000000000" for line in status.splitlines()
                        if line.startswith("Cap"))
        ok = ok and "NoNewPrivs:\\t1" in status
        libc = ctypes.CDLL(None, use_errno=True)
        ok = ok and libc.unshare(0x10000000) != 0 and libc.unshare(0x00020000) != 0
        ok = ok and socket.gethostname() == "sandbox"
        ok = ok and not any(os.path.exists(path) for path in {COURSE!r})
        ok = ok and os.environ.get("MPLBACKEND") == "Agg" and os.environ.get("HOME") == "/tmp"
    """)
    limits = Limits(cpu_seconds=4, wall_seconds=8)
    assert judge_function(JUDGED, folder, limits=limits).passed
    monkeypatch.setattr(warm_kernel, "running", lambda: None)  # the control: a cold judge
    assert not judge_function(JUDGED, folder, limits=limits).passed


def test_nothing_one_judge_leaves_reaches_the_next(tmp_path, server):
    from autograder.judge import Limits, judge_function
    from test_judge import left_running

    before = set(descendants(server.process.pid))
    limits = Limits(cpu_seconds=4, wall_seconds=8)
    alice = judged_submission(tmp_path / "alice", """
        for folder in ["/tmp", "/dev/shm", "."]:
            open(os.path.join(folder, "left-by-alice"), "w").close()
        ok = all(os.path.exists(os.path.join(folder, "left-by-alice"))
                 for folder in ["/tmp", "/dev/shm", "."])
        if os.fork() == 0:  # a daemon, out of the probe's session
            os.setsid()
            import time
            time.sleep(60)
            os._exit(0)
        libc = ctypes.CDLL(None, use_errno=True)
        ok = ok and libc.shmget(0x5EED, 4096, 0o1666) >= 0  # IPC_CREAT | 0666
    """)
    assert judge_function(JUDGED, alice, limits=limits).passed  # the traps were laid
    bob = judged_submission(tmp_path / "bob", """
        libc = ctypes.CDLL(None, use_errno=True)
        ok = not any(os.path.exists(os.path.join(folder, "left-by-alice"))
                     for folder in ["/tmp", "/dev/shm", "."])
        ok = ok and libc.shmget(0x5EED, 0, 0) < 0
        ok = ok and len([pid for pid in os.listdir("/proc") if pid.isdigit()]) == 3
    """)  # PID 1 (the reaper), the judge, this probe
    assert judge_function(JUDGED, bob, limits=limits).passed
    assert left_running(server, before) == []  # nothing of theirs on the host


# ---------------------------------------------------------------- the grading kernel's client

@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_the_client_is_ready_when_the_kernel_is_without_waiting_out_silence(tmp_path, monkeypatch,
                                                                          warm):
    """jupyter_client's client ends its wait for a new kernel by reading IOPub until nothing came
    for 0.2 s; the grading kernel's client stops at the kernel's idle status for its request, so
    none of its reads ends by waiting out a silence, and the first cell's outputs are all its own."""
    import asyncio
    from queue import Empty

    from autograder.grading_kernel import GradingKernelClient

    if not warm:
        monkeypatch.setenv("AUTOGRADER_WARM_KERNELS", "0")
    silences = []

    async def start_and_run():
        manager = SandboxedKernelManager(kernel_name="python3")
        await manager.start_kernel(cwd=str(tmp_path))
        client = manager.client()
        assert isinstance(client, GradingKernelClient)
        client.start_channels()
        get_msg = client.iopub_channel.get_msg

        async def watched(timeout=None):
            try:
                return await get_msg(timeout=timeout)
            except Empty:
                if timeout:
                    silences.append(timeout)
                raise

        client.iopub_channel.get_msg = watched
        try:
            await client.wait_for_ready(timeout=60)
            outputs = []
            reply = await client.execute_interactive("print(6 * 7)", timeout=60,
                                                     output_hook=outputs.append)
            assert reply["content"]["status"] == "ok"
            assert [message["content"]["text"] for message in outputs
                    if message["msg_type"] == "stream"] == ["42\n"]
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    asyncio.run(start_and_run())
    assert silences == []
