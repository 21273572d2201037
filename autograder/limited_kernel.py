"""The grading kernel: ipykernel started under resource limits.

nbgrader executes a student's notebook in a kernel; without limits, one student's runaway
allocation would take the grading machine's memory. ``autograder.grading_kernel`` starts this module
inside the submission's sandbox, and it caps the address space before the kernel starts.
"""
import os
import resource
import sys

MEMORY_BYTES = int(os.environ.get("AUTOGRADER_KERNEL_MEMORY", 6 * 1024 ** 3))
PROCESSES = 256
# Quiet in the run's log: ipykernel prints a banner (Ctrl-C, how to connect) unless it knows its
# parent (its parent is gone with its sandbox anyway: PID 1, as ipykernel calls it, is never
# polled), and debugpy warns about frozen modules once per interpreter.
OPTIONS = ["--IPKernelApp.parent_handle=1"]
ENVIRONMENT = {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def apply_limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:  # not enforced for root; counted over all of the user's processes
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        cap = PROCESSES if hard == resource.RLIM_INFINITY else min(PROCESSES, hard)
        if soft == resource.RLIM_INFINITY or soft > cap:
            resource.setrlimit(resource.RLIMIT_NPROC, (cap, hard))


if __name__ == "__main__":
    apply_limits()
    from ipykernel import kernelapp

    sys.exit(kernelapp.launch_new_instance())
