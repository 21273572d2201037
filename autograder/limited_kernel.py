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
