"""The sandbox every process that runs student code starts in: bubblewrap (``bwrap``).

At grading time a student's code runs in two places, the notebook's kernel and the judge's child.
Both start through ``wrap``, which puts the command in a sandbox of its own (a warm kernel is
forked by a kernel server started through ``wrap``, and gets the same isolation from namespaces of
its own: ``autograder.warm_kernel``):

- its own mount namespace holding only what Python needs, read-only (the system's ``/usr`` and
  libraries, a few files of ``/etc``, this interpreter and its environment, the installed course
  packages ``autograder`` and ``nncourse``) and a private copy of the submission in a size-limited tmpfs; nothing else of the course
  exists in it: not the reference ``nnlib/``, ``solutions/``, the gradebook, ``grades/``,
  ``feedback/``, other students' folders, ``.git`` nor the grading user's home;
- its own PID namespace: when the command ends, every process it started ends with it, whatever
  it did with ``fork`` and ``setsid``; ``--die-with-parent`` ends it if the grader dies;
- its own network namespace (no interface but its own loopback), IPC, UTS and cgroup namespaces;
- no capabilities and no further user namespaces, so even root inside cannot remount what it sees;
- what it writes (the submission copy, ``/tmp``, ``/dev/shm``) lives in tmpfs of a fixed size and
  is gone with the sandbox.

bubblewrap is the sandbox Flatpak runs every desktop application in; it works as root and, through
unprivileged user namespaces, as an ordinary user. ``problem()`` says why it cannot run here, and
``autograder grade --no-sandbox`` is the only way to grade without it.
"""
import contextlib
import functools
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

def _package_folder(name):
    """Where the installed package ``name`` lives (found without importing it)."""
    return Path(importlib.util.find_spec(name).origin).resolve().parent


# The course's installed packages: the autograder (its probes run in the judge's child) and the
# course tools a graded notebook imports (widgets, plotting).
PACKAGE_DIRS = tuple(_package_folder(name) for name in ("autograder", "nncourse"))
SCRATCH_BYTES = 256 * 1024 ** 2  # the submission's writable copy
TMP_BYTES = 256 * 1024 ** 2      # /tmp and /dev/shm, each
SUBMISSION_VIEW = "/run/submission"  # the read-only original the copy is made from
CACHE_VIEW = "/run/matplotlib"  # matplotlib's font list, copied to MPLCONFIGDIR (saves ~0.3 s a start)
# Runs first in every sandbox (before any student code), from the read-only views.
SETUP = (f'mkdir -p /tmp/matplotlib && if [ -d {CACHE_VIEW} ]; then cp {CACHE_VIEW}/* /tmp/matplotlib/; '
         f'fi && if [ -d {SUBMISSION_VIEW} ]; then cp -R {SUBMISSION_VIEW}/. .; fi && exec "$@"')
# Host variables a sandboxed process may see (everything else is cleared).
PASSED_ENVIRONMENT = ("MPLBACKEND", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                      "AUTOGRADER_KERNEL_MEMORY")
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_ETC = ("/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/ld.so.cache",
              "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives",
              "/etc/mime.types", "/etc/fonts")

UNSANDBOXED = ("graded WITHOUT the sandbox (--no-sandbox): submissions could read the reference and "
               "other students' work and change grades")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
                "bubblewrap; `make setup` does it when run as root)")


NOT_INSTALLED = "bubblewrap (bwrap) is not installed"
NO_NAMESPACES = "bubblewrap cannot create its namespaces here"
MACHINE_PROBLEMS = (NOT_INSTALLED, NO_NAMESPACES)  # what the machine lacks, as opposed to a bug


class SandboxUnavailable(RuntimeError):
    """Student code cannot be sandboxed on this machine; the message says why and what to do."""


def _python_folders():
    """Folders this interpreter and its environment live in (read-only in the sandbox)."""
    folders = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
               Path(sys.executable).parent, Path(os.path.realpath(sys.executable)).parent.parent}
    return sorted({folder.resolve() for folder in folders})


@functools.lru_cache(maxsize=None)
def _matplotlib_font_cache():
    """The grading user's matplotlib font list, if there is one (without it, every sandboxed start
    that imports pyplot would scan the system's fonts again)."""
    try:
        import matplotlib
    except ImportError:
        return ()
    return tuple(sorted(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json")))


def shown_folders():
    """The host folders a sandbox shows read-only at their own path besides the system's: this
    interpreter and its environment, and the course's installed packages."""
    python = [folder for folder in _python_folders() if not any(
        folder.is_relative_to(system) for system in SYSTEM if not os.path.islink(system))]
    return [*python, *PACKAGE_DIRS]


def _read_only(path):
    """Arguments showing the host ``path`` read-only at the same place (symlinks stay symlinks)."""
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    return ["--ro-bind-try", path, path]


def wrap(command, *, copy_from=None, workdir, read_only=None, environment=None,
         keep_capabilities=False):
    """``command`` as a bubblewrap command line.

    ``copy_from`` is a host folder copied (by a trusted ``cp`` before ``command`` starts) into a
    fresh tmpfs at ``workdir``, which becomes the working folder; the original is only read.
    ``read_only`` maps more host paths to where they appear inside (the kernel's connection file);
    ``environment`` is added to the few variables passed through. Nothing of the host is writable.
    ``keep_capabilities`` is for the warm kernel server only (``autograder.warm_kernel``), which
    runs no student code itself: it keeps its capabilities in the sandbox's user namespace, to give
    each kernel it forks namespaces of its own, and disables nested user namespaces itself.
    """
    workdir = Path(workdir)
    shown = [*_python_folders(), *PACKAGE_DIRS]
    if any(folder == workdir or folder.is_relative_to(workdir) for folder in shown):
        raise ValueError(f"the sandbox's working folder {workdir} would hide {shown}")
    privileges = ["--cap-add", "ALL"] if keep_capabilities else ["--cap-drop", "ALL", "--disable-userns"]
    arguments = ["bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", *privileges,
                 "--hostname", "sandbox", "--clearenv",
                 # First the private tmpfs: what is bound next may live under /tmp on the host.
                 "--proc", "/proc", "--dev", "/dev",
                 "--size", str(TMP_BYTES), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                 "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    for path in SYSTEM + SYSTEM_ETC:
        arguments += _read_only(path)
    for folder in shown_folders():
        arguments += ["--ro-bind", str(folder), str(folder)]
    arguments += ["--size", str(SCRATCH_BYTES), "--tmpfs", str(workdir)]
    for host_path, inside in (read_only or {}).items():
        arguments += ["--ro-bind", str(host_path), str(inside)]
    for name, value in sandboxed_environment(environment).items():
        arguments += ["--setenv", name, value]
    arguments += ["--chdir", str(workdir)]
    if copy_from is not None:
        arguments += ["--ro-bind", str(copy_from), SUBMISSION_VIEW]
    for cache in _matplotlib_font_cache():
        arguments += ["--ro-bind", str(cache), f"{CACHE_VIEW}/{cache.name}"]
    # Last: the root bubblewrap builds in memory (unlimited in size) becomes read-only; the tmpfs
    # mounted on it (the copy, /tmp, /dev/shm) stay writable, each with its own size.
    arguments += ["--remount-ro", "/", "--", "/bin/sh", "-c", SETUP, "sandbox"]
    return arguments + [str(part) for part in command]


def sandboxed_environment(environment=None):
    """The variables a sandboxed process sees: a few of its own, the host's
    ``PASSED_ENVIRONMENT``, and ``environment``."""
    variables = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp",
                 "LANG": "C.UTF-8", "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
                 "PYTHONDONTWRITEBYTECODE": "1"}
    variables.update({name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ})
    variables.update(environment or {})
    return {name: str(value) for name, value in variables.items()}


@functools.lru_cache(maxsize=None)
def problem():
    """Why student code cannot be sandboxed here (a message saying how to fix it), or ``""``."""
    if shutil.which("bwrap") is None:
        return f"{NOT_INSTALLED}: {INSTALL_HINT}"
    trial = subprocess.run(wrap([sys.executable, "-I", "-c", "import numpy, autograder.probes"],
                                workdir="/tmp/work"),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if trial.returncode == 0:
        return ""
    said = trial.stderr.strip().splitlines()[-1] if trial.stderr.strip() else f"exit {trial.returncode}"
    if "namespace" in said or "uid map" in said or "Operation not permitted" in said \
            or "Permission denied" in said:
        return (f"{NO_NAMESPACES} ({said}). Unprivileged user namespaces "
                "are turned off: on Ubuntu 24.04 and later, `sysctl kernel.apparmor_restrict_"
                "unprivileged_userns=0` (or an AppArmor profile allowing bwrap); elsewhere `sysctl "
                "user.max_user_namespaces=15000`; in a container, give it CAP_SYS_ADMIN or run "
                "grading on the host")
    return f"bubblewrap failed to start a sandbox: {said}"


def require():
    """Raise ``SandboxUnavailable`` unless ``wrap`` works on this machine."""
    reason = problem()
    if reason:
        raise SandboxUnavailable(f"{reason}. To grade without isolation anyway (a submission could "
                                 "then read the reference and change grades), pass --no-sandbox.")


def version():
    """``bubblewrap 0.8.0``, as the tool says of itself."""
    try:
        return subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "bubblewrap (not installed)"


def _pids_root():
    """The cgroup folder where a pids limit can be set (v1 ``pids`` or v2 with ``pids``), or None.

    RLIMIT_NPROC does not bind root, so when grading as root a fork bomb is held by a cgroup.
    """
    candidates = [Path("/sys/fs/cgroup/pids")]
    unified = Path("/sys/fs/cgroup/cgroup.controllers")
    if unified.is_file() and "pids" in unified.read_text().split():
        candidates.append(Path("/sys/fs/cgroup"))
    for root in candidates:
        if (root / "cgroup.procs").is_file() and os.access(root, os.W_OK):
            return root
    return None


def create_process_group(processes):
    """A fresh cgroup allowing at most ``processes`` processes, or None where none can be made
    (not root: then RLIMIT_NPROC, which binds every other user, does the job)."""
    root = _pids_root()
    if root is None:
        return None
    group = root / f"autograder-{secrets.token_hex(6)}"
    try:
        group.mkdir()
        _LIVE_GROUPS.add(group)
        (group / "pids.max").write_text(str(processes))
    except OSError:
        remove_process_group(group if group.is_dir() else None)
        return None
    return group


# The cgroups this process made and has not removed yet (a stopped worker removes them on its way out).
_LIVE_GROUPS = set()


def remove_all_process_groups():
    """``remove_process_group`` for every cgroup this process made and still has."""
    for group in list(_LIVE_GROUPS):
        remove_process_group(group)


def remove_process_group(group):
    """Kill everything still in ``group`` and remove it."""
    if group is None:
        return
    for _ in range(50):
        try:
            pids = [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
        except OSError:
            break
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)  # a killed process leaves the group when it has exited
    with contextlib.suppress(OSError):
        group.rmdir()
    _LIVE_GROUPS.discard(group)


@contextlib.contextmanager
def process_group(processes):
    """``create_process_group`` for the duration of a ``with`` block."""
    group = create_process_group(processes)
    try:
        yield group
    finally:
        remove_process_group(group)


def joining(group, command):
    """``command``, made to enter the cgroup ``group`` first (when there is one)."""
    if group is None:
        return list(command)
    return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs"), *command]


def children_by_parent():
    """The host's process table as ``{parent PID: [child PIDs]}`` (read from ``/proc``)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # The command name in parentheses may hold spaces: the parent PID follows its ")".
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    return children
