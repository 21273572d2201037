"""Autograde stage: nbgrader's ``Execute``, with every kernel started in a sandbox of its own.

Listed in place of ``nbgrader.preprocessors.Execute`` (``autograder.settings``), so ``autograder
grade``, ``nbgrader autograde`` and the formgrader all execute submissions the same way; the
``Execute`` settings (time-out, interrupt) apply to it unchanged.
"""
from nbgrader.preprocessors import Execute
from traitlets import Bool


class SandboxedExecute(Execute):

    sandboxed = Bool(True, help="Run each submission's kernel in its own sandbox (bubblewrap); "
                                "False only with `autograder grade --no-sandbox`").tag(config=True)

    def __init__(self, *args, **kwargs):
        from autograder.grading_kernel import SandboxedKernelManager

        # nbgrader's Execute passes its own manager class as an argument, which config cannot override.
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self):
        manager = super().create_kernel_manager()
        manager.sandboxed = self.sandboxed
        return manager
