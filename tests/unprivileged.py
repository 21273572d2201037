"""Run a command as an ordinary user (``nobody``), the way an instructor's own account would.

Only root can switch users, and this machine's Python may sit in a folder ``nobody`` cannot enter
(``/root`` is private). So the command runs in a private mount namespace, made by root with
util-linux ``unshare``, where each such folder is covered by an empty, world-readable tmpfs holding
only what the command needs (the interpreter, its environment, the course); nothing changes on the
host. Then ``setpriv`` drops to ``nobody`` with no capabilities and no groups, and the command runs
as that user, unable to create namespaces except as any user can (unprivileged user namespaces).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

NOBODY = 65534

# Runs as root inside the new mount namespace: uncover the needed paths, then drop to nobody.
SETUP = r"""
import json, os, subprocess, sys
needed, argv, env, uid = json.loads(sys.argv[1])

def run(*command):
    subprocess.run(command, check=True)

def closed_ancestor(path):
    # The highest folder above path that others may not enter.
    parts = os.path.realpath(path).split(os.sep)[1:]
    for depth in range(1, len(parts)):
        folder = os.sep + os.sep.join(parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None

needed = sorted({os.path.realpath(path) for path in needed})
needed = [path for path in needed
          if not any(path != other and path.startswith(other + os.sep) for other in needed)]
covered = {}
for path in needed:
    folder = closed_ancestor(path)
    if folder:
        covered.setdefault(folder, []).append(os.path.realpath(path))
run("mount", "-t", "tmpfs", "-o", "size=1m,mode=700", "staging", "/mnt")
for number, (folder, paths) in enumerate(covered.items()):
    staged = []
    for index, path in enumerate(paths):
        stage = f"/mnt/{number}-{index}"
        os.mkdir(stage)
        run("mount", "--bind", path, stage)
        staged.append((stage, path))
    run("mount", "-t", "tmpfs", "-o", "size=1m,mode=755", "uncovered", folder)
    for stage, path in staged:
        os.makedirs(path, mode=0o755, exist_ok=True)
        run("mount", "--bind", stage, path)
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
os.execve(argv[0], argv, env)
"""


def why_not():
    """Why a command cannot be run as ``nobody`` here, or ``""``."""
    if os.geteuid() != 0:
        return "the tests already run as an ordinary user: the main run is the unprivileged one"
    for tool in ("unshare", "mount"):
        if shutil.which(tool) is None:
            return f"util-linux's {tool} is not installed"
    trial = run_as_nobody([sys.executable, "-c", "import os, numpy, autograder; print(os.getuid())"],
                          needed=[], home="/", timeout=120)
    if trial.returncode != 0 or trial.stdout.strip() != str(NOBODY):
        return f"could not run Python as nobody here: {trial.stderr.strip()[-300:]}"
    return ""


def run_as_nobody(argv, needed, home, environment=None, timeout=None):
    """Run ``argv`` as ``nobody`` with this interpreter, its environment, the course and ``needed``
    reachable; returns the ``CompletedProcess`` (text output captured)."""
    REPO = Path(__file__).resolve().parents[1]

    paths = [sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parents[1]), str(REPO), *map(str, needed)]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home),
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(environment or {})}
    command = ["unshare", "--mount", "--propagation", "private", "--",
               sys.executable, "-I", "-c", SETUP, json.dumps([paths, list(argv), env, NOBODY])]
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)
