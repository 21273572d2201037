"""The kernel a submission's notebook is graded in: ``autograder.limited_kernel``, in the sandbox.

nbgrader's ``Execute`` stage starts kernels through a jupyter_client ``KernelManager``; this one
(installed by ``autograder.preprocessors.SandboxedExecute``) starts every kernel inside its own
sandbox (``autograder.sandbox``), whatever kernel the notebook names:

- the kernel works on a private copy of the folder nbgrader executes the notebook in; what it
  writes there vanishes with it, and the submitted files are out of its sight;
- it has no network, so it talks to the grader over Unix sockets (ZeroMQ's ``ipc`` transport) in a
  folder of its own, the only host folder it may write to;
- interrupts (a cell's time-out) go as a message on the control channel: a signal would reach
  bubblewrap, not the kernel inside its PID namespace;
- as root (where RLIMIT_NPROC does not bind), a cgroup caps its processes, as for the judge.

Without the sandbox (``--no-sandbox``) it starts the same limited kernel directly, over TCP.
"""
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool

from . import sandbox
from .limited_kernel import PROCESSES


class SandboxedKernelManager(AsyncKernelManager):

    sandboxed = Bool(True, help="Start the kernel in its own sandbox (bubblewrap)").tag(config=True)

    _socket_folder = None
    _process_group = None

    async def _async_pre_start_kernel(self, **kw):
        self._copy_from = Path(kw.get("cwd") or ".").resolve()
        if self.sandboxed:
            sandbox.require()
            self._socket_folder = tempfile.mkdtemp(prefix="autograder-kernel-")
            self.transport = "ipc"
            self.ip = str(Path(self._socket_folder) / "kernel")
            self.connection_file = str(Path(self._socket_folder) / "connection.json")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        self.kernel_spec.interrupt_mode = "message"
        return kernel_cmd, kw

    def format_kernel_cmd(self, extra_arguments=None):
        command = [sys.executable, "-m", "autograder.limited_kernel", "-f", self.connection_file,
                   *(extra_arguments or [])]
        if not self.sandboxed:
            return command
        if self._process_group is None:
            self._process_group = sandbox.create_process_group(PROCESSES)
        return sandbox.joining(self._process_group, sandbox.wrap(
            command, copy_from=self._copy_from, workdir=self._copy_from, writable=[self._socket_folder]))

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            sandbox.remove_process_group(self._process_group)
            self._process_group = None
        if self._socket_folder is not None:
            shutil.rmtree(self._socket_folder, ignore_errors=True)
            self._socket_folder = None
