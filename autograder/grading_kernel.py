"""The kernel a submission's notebook is graded in: ``autograder.limited_kernel``, in the sandbox.

nbgrader's ``Execute`` stage starts kernels through a jupyter_client ``KernelManager``; this one
(installed by ``autograder.preprocessors.SandboxedExecute``) starts every kernel inside its own
sandbox (``autograder.sandbox``), whatever kernel the notebook names:

- the kernel works on a private copy of the folder nbgrader executes the notebook in; what it
  writes there vanishes with it, and the submitted files are out of its sight;
- it has no network, so it talks to the grader over Unix sockets (ZeroMQ's ``ipc`` transport). It
  binds them in its own size-limited ``/tmp``, and the grader reaches them through
  ``/proc/<pid>/root``, the sandbox's root as the host sees it: nothing on the host is writable
  from inside (its connection file is shown read-only);
- interrupts (a cell's time-out) go as a message on the control channel: a signal would reach
  bubblewrap, not the kernel inside its PID namespace;
- as root (where RLIMIT_NPROC does not bind), a cgroup caps its processes, as for the judge;
- it starts warm: forked by this worker's kernel server, in namespaces of its own, with the
  imports every kernel does already done (``autograder.warm_kernel``); where the server cannot
  run, cold, as a fresh interpreter in a fresh sandbox (the run's log says why). Its working
  folder is then ``/home/student/work`` instead of the host's path.

Without the sandbox (``--no-sandbox``) it starts the same limited kernel directly, over TCP.
"""
import asyncio
import importlib.metadata
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Type

from . import sandbox, warm_kernel
from .limited_kernel import ENVIRONMENT as KERNEL_ENVIRONMENT, OPTIONS as KERNEL_OPTIONS, PROCESSES


SOCKETS = "/tmp/kernel"  # the kernel's sockets, <SOCKETS>-<port>, inside its sandbox
CONNECTION_VIEW = "/run/kernel/connection.json"  # its connection file, read-only, inside
START_SECONDS = 60  # how long a sandbox may take to come up


WELCOME_SECONDS = 5.0  # what a kernel may take to start on a busy machine before it is asked
# The grading kernel is this environment's ipykernel; from version 7 on it welcomes subscribers.
_WELCOMES = int(importlib.metadata.version("ipykernel").split(".")[0]) >= 7


class GradingKernelClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel is: its own ``wait_for_ready`` ends by
    reading IOPub until nothing came for 0.2 s, a fixed fifth of a second for every notebook."""

    async def wait_for_ready(self, timeout=None):
        """Ask for the kernel's info until both its reply and the IOPub messages of that request
        (up to the kernel's idle status) arrive: the shell and IOPub channels are then connected
        and nothing of the start is left to read. Raises ``RuntimeError`` as jupyter_client's does
        when the kernel dies or ``timeout`` seconds pass first.

        ipykernel 7 welcomes each IOPub subscriber with a message: once it came, the kernel's
        answer to the first request cannot be missed (a kernel that does not send it is asked
        again after a fifth of a second without its answer, as jupyter_client does)."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        if _WELCOMES:
            await self._welcomed(min(WELCOME_SECONDS, deadline - time.monotonic()))
        while True:
            request = self.kernel_info()
            if await self._replied(request) and await self._idle_after(request):
                break
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:  # what IOPub still holds: not this notebook's (nothing ran yet)
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                return

    async def _welcomed(self, seconds):
        """Whether the kernel's IOPub welcome came within ``seconds``."""
        end = time.monotonic() + seconds
        while True:
            try:
                message = await self.iopub_channel.get_msg(timeout=max(end - time.monotonic(), 0))
            except Empty:
                return False
            if message["msg_type"] == "iopub_welcome":
                return True

    async def _replied(self, request, seconds=1.0):
        while True:
            try:
                message = await self.shell_channel.get_msg(timeout=seconds)
            except Empty:
                return False
            if message["parent_header"].get("msg_id") == request:
                self._handle_kernel_info_reply(message)
                return True

    async def _idle_after(self, request, seconds=0.2):
        """Whether the kernel's idle status for ``request`` arrives on IOPub (else IOPub was not
        connected yet when the kernel sent it, and the request is made again)."""
        while True:
            try:
                message = await self.iopub_channel.get_msg(timeout=seconds)
            except Empty:
                return False
            if (message["parent_header"].get("msg_id") == request
                    and message["msg_type"] == "status"
                    and message["content"].get("execution_state") == "idle"):
                return True


class SandboxedKernelManager(AsyncKernelManager):

    sandboxed = Bool(True, help="Start the kernel in its own sandbox (bubblewrap)").tag(config=True)
    client_factory = Type(GradingKernelClient, klass=AsyncKernelClient)

    _private_folder = None
    _process_group = None

    async def _async_pre_start_kernel(self, **kw):
        self._copy_from = Path(kw.get("cwd") or ".").resolve()
        if self.sandboxed:
            sandbox.require()
            self._private_folder = tempfile.mkdtemp(prefix="autograder-kernel-")
            self.transport = "ipc"
            self.ip = SOCKETS
            self.connection_file = str(Path(self._private_folder) / "connection.json")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        self.kernel_spec.interrupt_mode = "message"
        return kernel_cmd, kw

    def format_kernel_cmd(self, extra_arguments=None):
        connection = CONNECTION_VIEW if self.sandboxed else self.connection_file
        command = [sys.executable, "-m", "autograder.limited_kernel", "-f", connection,
                   *KERNEL_OPTIONS, *(extra_arguments or [])]
        if not self.sandboxed:
            return command
        if self._process_group is None:
            self._process_group = sandbox.create_process_group(PROCESSES)
        return sandbox.joining(self._process_group, sandbox.wrap(
            command, copy_from=self._copy_from, workdir=self._copy_from,
            read_only={self.connection_file: CONNECTION_VIEW}, environment=KERNEL_ENVIRONMENT))

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not self.sandboxed:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        try:
            server = warm_kernel.server()
        except warm_kernel.KernelServerUnavailable as error:
            _say_once(f"grading kernels start cold: {error}")
            server = None
        if server is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            root = await _sandbox_root(self.provisioner.process.pid)
        else:
            kernel = server.start(Path(self.connection_file).read_text(), self._copy_from,
                                  self._process_group)
            # jupyter_client's local provisioner handles it as the process it would have started.
            self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = \
                kernel, kernel.pid, None
            self._reconcile_connection_info(self.provisioner.connection_info)
            root = f"/proc/{kernel.pid}/root"
        self.ip = f"{root}{SOCKETS}"  # the same sockets, as the grader reaches them

    async def _async_wait(self, pollinterval=0.1):
        # jupyter_client looks whether the kernel has exited every tenth of a second: half of
        # one lost per notebook, on average
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            sandbox.remove_process_group(self._process_group)
            self._process_group = None
        if self._private_folder is not None:
            shutil.rmtree(self._private_folder, ignore_errors=True)
            self._private_folder = None


_said = set()


def _say_once(message):
    """``message`` on stderr (the run's log), once per worker."""
    if message not in _said:
        _said.add(message)
        print(f"autograder: {message}", file=sys.stderr)


async def _sandbox_root(bwrap_pid):
    """``/proc/<pid>/root`` of the sandbox bubblewrap ``bwrap_pid`` started, once it has its own root.

    bubblewrap forks the sandbox's first process, which then switches to the new root; until it has,
    its ``root`` would be the host's, so this waits for a root on another file system.
    """
    host = os.stat("/")
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for child in sandbox.children_by_parent().get(bwrap_pid, []):
            root = f"/proc/{child}/root"
            try:
                inside = os.stat(root)
            except OSError:
                continue
            if (inside.st_dev, inside.st_ino) != (host.st_dev, host.st_ino):
                return root
        await asyncio.sleep(0.005)
    raise RuntimeError(f"the grading kernel's sandbox did not start within {START_SECONDS} s")
