"""Warm grading kernels: each submission's kernel is forked from an interpreter that has done the
kernel's imports, in namespaces of its own.

A cold kernel spends about a second of CPU before it runs the student's first line: starting
Python, importing ipykernel, numpy and matplotlib. A grading worker instead keeps one *kernel
server*: an interpreter with those imports done, in a bubblewrap sandbox of its own
(``autograder.sandbox``) that never holds a submission. For each submission it forks a child,
which

- enters new mount, PID, IPC, network and UTS namespaces, and forks the kernel as PID 1 of its
  PID namespace: whatever the kernel starts dies with it, and it can address no process outside;
- mounts fresh, size-limited tmpfs on ``/tmp``, ``/dev/shm`` and its working folder and a fresh
  ``/proc``: nothing an earlier submission wrote is there, and nothing it writes outlives it;
- reads the submission's files from a socket of its own (the server never sees them, so no
  copy of one submission can be found in the memory of the next);
- drops every capability (bounding set included: an ``exec`` gives none back), sets
  ``no_new_privs``, closes every descriptor it inherited, applies the kernel's resource limits
  (``autograder.limited_kernel``), and only then runs ipykernel.

The server is itself sandboxed like a cold kernel, with two differences its children need: it
keeps its capabilities (in the sandbox's user namespace only, to make their namespaces), and
instead of bubblewrap's ``--disable-userns`` it sets that user namespace's limit of nested user
namespaces to 0 itself before it imports anything. It is not dumpable, so no process of its uid
can read its memory through ``/proc`` or ``ptrace``.

The judge's child (``autograder.judge_child``) is forked the same way, with the same isolation,
on a copy of the submission's ``nnlib/`` and under the judge's limits: numpy and the probes are
imported already, and its PID 1 reaps whatever its probes leave, as bubblewrap's does.

The worker talks to a kernel or a judge as to a process (``WarmProcess``: ``pid``, ``poll``,
``wait``, ``send_signal``, ``kill``), so jupyter_client manages a kernel as it manages a cold one.
"""
import array
import contextlib
import ctypes
import io
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

from . import sandbox, stopping
from .limited_kernel import ENVIRONMENT as KERNEL_ENVIRONMENT, OPTIONS as KERNEL_OPTIONS

KERNEL_FOLDER = "/home/student/work"  # the kernel's working folder, inside its sandbox
JUDGE_FOLDER = "/home/student/judged"  # the judge's copy of the submission's nnlib/, inside
CONNECTION_FOLDER = "/home/kernel"  # its connection file, read-only
CONNECTION_FILE = f"{CONNECTION_FOLDER}/connection.json"
START_SECONDS = 60

# Linux constants (linux/sched.h, linux/mount.h, linux/prctl.h, linux/capability.h)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 0x4000, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 4, 24, 28
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
# noroot, no_setuid_fixup, no_cap_ambient_raise, each locked, and keep_caps off and locked
SECURE_NOROOT_AND_LOCKS = 0xEF
MNT_DETACH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _mount(source, target, kind, flags, options=None):
    _check(_libc.mount(source and source.encode(), target.encode(), kind and kind.encode(),
                       ctypes.c_ulong(flags), options and options.encode()), f"mount {target}")


# ---------------------------------------------------------------- inside the server's sandbox

def _no_nested_user_namespaces():
    """This user namespace's ``user.max_user_namespaces`` to 0 (bubblewrap's ``--disable-userns``
    does the same with one more namespace). Where bubblewrap showed ``/proc/sys`` read-only (as
    root), through a fresh ``/proc`` of our own."""
    setting = "sys/user/max_user_namespaces"
    try:
        Path("/proc", setting).write_text("0")
        return
    except OSError:
        pass
    view = "/tmp/.setup-proc"
    os.mkdir(view)
    _mount("proc", view, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    try:
        Path(view, setting).write_text("0")
    finally:
        _check(_libc.umount2(view.encode(), MNT_DETACH), "umount")
        os.rmdir(view)


def _warm_up():
    """The imports every graded notebook's kernel does, and nothing that would start a thread or
    draw (numpy's random state is made on first use, so each kernel gets its own). Not the inline
    backend itself: it hooks into IPython's display when it is imported, which only a kernel's
    shell can do (imported here, plt.show() would show nothing); what it draws with is imported."""
    if not os.environ.get("MPLBACKEND"):  # as ipykernel sets it, before matplotlib reads it
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    import ipykernel.debugger  # noqa: F401 - debugpy, a tenth of a second
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import IPython.core.completer  # noqa: F401
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401

    from . import judge_child, probes  # noqa: F401 - the judge's

    if threading.active_count() != 1:  # fork copies only the calling thread
        raise RuntimeError(f"the kernel server must not run threads: {threading.enumerate()}")


def _receive(control):
    """One request (a JSON line), the socket that came with it and, for a judge, the file its
    results go to (a descriptor); ``(None, None, None)`` at EOF."""
    descriptors = array.array("i")
    data, ancillary, _, _ = control.recvmsg(65536, socket.CMSG_SPACE(2 * descriptors.itemsize))
    if not data:
        return None, None, None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            descriptors.frombytes(payload[:len(payload) - len(payload) % descriptors.itemsize])
    request = json.loads(data)
    expected = 2 if request.get("kind") == "judge" else 1
    if len(descriptors) != expected:
        raise RuntimeError(f"a {request.get('kind', 'kernel')} request comes with {expected} "
                           "descriptors")
    results = descriptors[1] if expected == 2 else None
    return request, socket.socket(fileno=descriptors[0]), results


_started_in = os.getcwd()  # on the path of ``python -m``: not a judge's


def serve(control_fd):
    """The server's loop: a kernel (or a judge) for each request, until the worker closes the
    control socket."""
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable")
    _no_nested_user_namespaces()
    _warm_up()
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished kernels' monitors are reaped at once
    control.sendall(b"ready\n")
    while True:
        request, job, results = _receive(control)
        if request is None:
            return
        if os.fork() == 0:
            code = 70
            try:
                control.close()
                code = _monitor(job, request, results)
            finally:
                os._exit(code)
        job.close()
        if results is not None:
            os.close(results)


def _monitor(job, request, results):
    """In the server's child: new namespaces, the kernel (or the judge) as their PID 1, its exit
    status sent."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS),
           "unshare")
    kernel = os.fork()
    if kernel == 0:
        code = 70
        try:
            code = _judge(job, request, results) if results is not None else _kernel(job, request)
        except BaseException as error:  # noqa: BLE001 - said on stderr, the kernel never starts
            print(f"autograder: the warm {request.get('kind', 'kernel')} could not start: "
                  f"{error!r}", file=sys.stderr)
        finally:
            os._exit(code)
    if results is not None:
        os.close(results)
    job.sendall(json.dumps({"kernel": kernel}).encode() + b"\n")
    _, status = os.waitpid(kernel, 0)
    with contextlib.suppress(OSError):
        job.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
    return 0


def _read_exactly(job, count):
    chunks, left = [], count
    while left:
        chunk = job.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the grading worker closed the kernel's socket")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _fresh_tmpfs(target, options):
    """A fresh tmpfs at ``target`` that still shows, read-only, the folders of the sandbox below
    it (a course installed under /tmp or /home): made aside, under /dev/shm, then moved."""
    staging = "/dev/shm/.staging"
    os.mkdir(staging)
    _mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for folder in sandbox.shown_folders():
        if folder.is_relative_to(target):
            inside = staging + "/" + str(folder.relative_to(target))
            os.makedirs(inside, exist_ok=True)
            _mount(str(folder), inside, None, MS_BIND | MS_REC)
            _mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount(staging, target, None, MS_MOVE)
    os.rmdir(staging)


def _private_world(folder, connection=None):
    """A kernel's or a judge's own file system view: fresh tmpfs and /proc over everything
    writable; its working ``folder`` (and a kernel's ``connection`` file, read-only) in /home."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmpfs = MS_NOSUID | MS_NODEV
    _mount("tmpfs", "/dev/shm", "tmpfs", tmpfs, f"size={sandbox.TMP_BYTES},mode=1777")
    _fresh_tmpfs("/tmp", f"size={sandbox.TMP_BYTES},mode=1777")
    # /home: read-only, holding the connection file and the working folder (a tmpfs of its own).
    _fresh_tmpfs("/home", "size=1m,mode=0755")
    os.makedirs(folder)
    if connection is not None:
        os.makedirs(CONNECTION_FOLDER)
        Path(CONNECTION_FILE).write_text(connection)
    _mount("tmpfs", folder, "tmpfs", tmpfs, f"size={sandbox.SCRATCH_BYTES},mode=0755")
    _mount(None, "/home", None, MS_REMOUNT | MS_BIND | MS_RDONLY | tmpfs)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for folder in ("sys", "sysrq-trigger", "irq", "bus"):  # read-only, as bubblewrap shows them
        path = f"/proc/{folder}"
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.makedirs("/tmp/matplotlib", exist_ok=True)


def _drop_privileges():
    """No capability now or after any ``exec``, and no way to gain one."""
    _check(_libc.prctl(PR_SET_SECUREBITS, SECURE_NOROOT_AND_LOCKS, 0, 0, 0), "securebits")
    capability = 0
    while _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) == 0:
        capability += 1
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient capabilities")
    header = struct.pack("Ii", LINUX_CAPABILITY_VERSION_3, 0)
    nothing = bytes(24)  # two {effective, permitted, inheritable} sets of 32 bits, all zero
    _check(_libc.syscall(126 if os.uname().machine == "x86_64" else 91, header, nothing), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _enter(job, folder, connection=None, keep=()):
    """PID 1 of fresh namespaces: its own world, every descriptor closed but ``job`` and ``keep``,
    no privileges; then the submission's files from ``job`` into ``folder``, its working folder."""
    _private_world(folder, connection)
    _check(_libc.sethostname(b"sandbox", 7), "hostname")
    kept = sorted({job.fileno(), *keep})
    for low, high in zip([2, *kept], [*kept, os.sysconf("SC_OPEN_MAX")]):
        os.closerange(low + 1, high)
    _drop_privileges()  # before reading a single byte of the submission
    size = int(_read_line(job))
    # Python before 3.11.4 (Debian 12's 3.11.2) has no extraction filters: the archive is the
    # worker's, of plain files, and this process can reach nothing outside its sandbox anyway.
    safely = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
    with tarfile.open(fileobj=io.BytesIO(_read_exactly(job, size))) as archive:
        archive.extractall(folder, **safely)
    job.close()  # the student's code must not speak for the monitor
    os.chdir(folder)


def _kernel(job, request):
    """The kernel, PID 1 of its namespaces: its world, the submission, no privileges, ipykernel."""
    _enter(job, KERNEL_FOLDER, request["connection"])
    from .limited_kernel import apply_limits

    apply_limits()
    # Dumpable again (the server is not): the worker reaches the kernel's sockets through
    # /proc/<pid>/root, which needs it; nothing of the server's is left to read.
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    sys.argv = [sys.executable, "-f", CONNECTION_FILE]
    from ipykernel import kernelapp

    try:
        kernelapp.launch_new_instance(argv=["-f", CONNECTION_FILE, *KERNEL_OPTIONS])
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else 1
    return 0


def _judge(job, request, results):
    """The judge's child, forked by a PID 1 that stays to reap what its probes leave (as
    bubblewrap's does for a cold judge); its results go to the descriptor ``results``."""
    _enter(job, JUDGE_FOLDER, keep=[results])
    null = os.open("/dev/null", os.O_RDWR)
    for target, source in ((0, null), (1, results), (2, null)):
        os.dup2(source, target)
    os.close(null)
    os.close(results)
    apply_resource_limits(request["limits"])
    os.environ.clear()
    os.environ.update(request["environment"])
    judge = os.fork()
    if judge == 0:
        try:
            _run_judge_child(request["arguments"])
        finally:
            os._exit(70)
    while True:
        pid, status = os.wait()
        if pid == judge:
            return os.waitstatus_to_exitcode(status)


def apply_resource_limits(limits):
    """Set each of ``limits`` (``{"RLIMIT_CPU": seconds, ...}``), soft and hard, in this process."""
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _run_judge_child(arguments):
    """``python -I -m autograder.judge_child ARGUMENTS``, as far as a forked process can: the
    server's working folder off the path, the judge's matplotlib backend."""
    sys.path[:] = [entry for entry in sys.path if entry not in ("", _started_in)]
    sys.argv = ["autograder.judge_child", *arguments]
    import matplotlib.pyplot

    matplotlib.pyplot.switch_backend(os.environ.get("MPLBACKEND", "agg"))
    from . import judge_child

    judge_child.main()


def _read_line(job):
    line = b""
    while not line.endswith(b"\n"):
        byte = job.recv(1)
        if not byte:
            raise EOFError("the grading worker closed the kernel's socket")
        line += byte
    return line


# ---------------------------------------------------------------- in the grading worker

class KernelServerUnavailable(RuntimeError):
    """The kernel server cannot run here; the message says why (grading uses cold kernels)."""


class WarmProcess:
    """A kernel or a judge forked by the server, handled like a ``subprocess.Popen``."""

    stdin = stdout = stderr = None  # its output goes to the server's (the worker's log)

    def __init__(self, pid, job):
        self.pid, self._job, self.returncode = pid, job, None
        self._buffer = b""

    def _take_exit(self, block):
        self._job.setblocking(block)
        try:
            while b"\n" not in self._buffer:
                chunk = self._job.recv(4096)
                if not chunk:  # the monitor is gone without a word: killed with the server
                    self.returncode = -signal.SIGKILL
                    return
                self._buffer += chunk
        except BlockingIOError:
            return
        finally:
            self._job.setblocking(True)
        line, self._buffer = self._buffer.split(b"\n", 1)
        self.returncode = json.loads(line)["exit"]

    def poll(self):
        if self.returncode is None:
            self._take_exit(block=False)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("warm process", timeout)
            time.sleep(0.01)
        self._job.close()
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)  # PID 1 of its namespace: SIGKILL ends all it started

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGKILL)  # as PID 1 of its namespace it would ignore SIGTERM


class KernelServer:
    """This worker's kernel server (a bubblewrap sandbox running ``serve``)."""

    def __init__(self):
        worker_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = sandbox.wrap([sys.executable, "-m", "autograder.warm_kernel",
                                str(server_end.fileno())],
                               workdir=KERNEL_FOLDER, keep_capabilities=True,
                               # a cold judge's hash seed, fixed at start (its kernels' too)
                               environment={"PYTHONHASHSEED": "0", **KERNEL_ENVIRONMENT})
        self.process = subprocess.Popen(command, pass_fds=[server_end.fileno()],
                                        stdin=subprocess.DEVNULL, start_new_session=False)
        server_end.close()
        self.control = worker_end
        self.control.settimeout(START_SECONDS)
        try:
            said = self.control.recv(64)
        except OSError:
            said = b""
        self.control.settimeout(None)
        if said != b"ready\n":
            self.close()
            raise KernelServerUnavailable(
                f"the warm kernel server did not start (exit {self.process.poll()}); see the "
                "run's log")

    def alive(self):
        return self.process.poll() is None

    def start(self, connection, folder, process_group=None):
        """A kernel with the connection file text ``connection``, working on a copy of the host
        ``folder``; joins the cgroup ``process_group`` before any of the student's code runs."""
        return self._fork({"kind": "kernel", "connection": connection}, folder, process_group)

    def start_judge(self, arguments, environment, limits, folder, results, process_group=None):
        """The judge's child (``autograder.judge_child ARGUMENTS``) with only ``environment``, the
        resource ``limits`` (``{"RLIMIT_CPU": seconds, ...}``) and a copy of the host ``folder``
        in ``JUDGE_FOLDER``, writing to the open file ``results``; joins ``process_group`` first."""
        request = {"kind": "judge", "arguments": arguments, "environment": environment,
                   "limits": limits}
        return self._fork(request, folder, process_group, results.fileno())

    def _fork(self, request, folder, process_group, results=None):
        worker_end, forked_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        descriptors = [forked_end.fileno()] + ([results] if results is not None else [])
        self.control.sendmsg([json.dumps(request).encode()],
                             [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", descriptors))])
        forked_end.close()
        worker_end.settimeout(START_SECONDS)
        inside = json.loads(_read_line(worker_end))["kernel"]
        pid = self._host_pid(inside)
        if process_group is not None:
            (Path(process_group) / "cgroup.procs").write_text(str(pid))
        archive = _archive(folder)
        worker_end.sendall(f"{len(archive)}\n".encode() + archive)
        worker_end.settimeout(None)
        return WarmProcess(pid, worker_end)

    def _host_pid(self, inside):
        """The host's PID of the kernel the server knows as ``inside`` (its ``NSpid`` line)."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            for pid in stopping.descendants(self.process.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                numbers = next((line.split()[1:] for line in status.splitlines()
                                if line.startswith("NSpid:")), [])
                # ..., the server's namespace, the kernel's own (where it is 1)
                if len(numbers) >= 3 and numbers[-2] == str(inside) and numbers[-1] == "1":
                    return int(pid)
            time.sleep(0.002)
        raise RuntimeError("the warm kernel did not appear")

    def close(self):
        with contextlib.suppress(OSError):
            self.control.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()


def _archive(folder):
    """The files below ``folder`` as an uncompressed tar (symbolic links stay links)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(Path(folder).iterdir()):
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


_server = None
_server_lock = threading.Lock()
_unavailable = ""


def running():
    """This process's kernel server if it runs one now (the judge forks from it when it does: a
    grading worker), else None."""
    with _server_lock:
        return _server if _server is not None and _server.alive() else None


def server():
    """This worker's running kernel server (started, or started again, here), or raises
    ``KernelServerUnavailable``."""
    global _server, _unavailable
    if os.environ.get("AUTOGRADER_WARM_KERNELS") == "0":
        raise KernelServerUnavailable("turned off (AUTOGRADER_WARM_KERNELS=0)")
    with _server_lock:
        if _unavailable:
            raise KernelServerUnavailable(_unavailable)
        if _server is None or not _server.alive():
            try:
                _server = KernelServer()
            except (KernelServerUnavailable, OSError) as error:
                _unavailable = str(error)
                raise KernelServerUnavailable(_unavailable) from None
        return _server


if __name__ == "__main__":
    serve(int(sys.argv[1]))
