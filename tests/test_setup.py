"""The two-command setup: dependencies in step, nnlib never installed (the course tools are, without
it), `make lab` serves the course."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def requirement(spec):
    """'jupyterlab>=4.2,<5' -> ('jupyterlab', '<5,>=4.2'): name and a canonical specifier."""
    name, constraint = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$", spec).groups()
    clauses = sorted(part.replace(" ", "") for part in constraint.split(",") if part.strip())
    return name.lower().replace("_", "-"), ",".join(clauses)


def conda_dependencies():
    """The dependency lines of environment.yml (a flat list: no YAML parser needed)."""
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    return [line.strip()[2:] for line in lines[start + 1:] if line.strip().startswith("- ")]


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    pip_side = dict(requirement(spec) for spec in pyproject["project"]["dependencies"])
    conda_side = dict(requirement(spec) for spec in conda_dependencies()
                      if not spec.startswith(("python", "pip")))
    assert conda_side == pip_side
    assert "python=3.11" in conda_dependencies()
    assert "conda-forge" in (REPO / "environment.yml").read_text()


def test_nnlib_is_not_installed_in_the_environment(tmp_path):
    # An installed reference nnlib would silently stand in for a student's missing copy.
    result = subprocess.run([sys.executable, "-c", "import nnlib"], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode != 0 and "No module named 'nnlib'" in result.stderr
    result = subprocess.run([sys.executable, "-c", "import autograder"], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, "the autograder is installed: " + result.stderr


def test_the_course_tools_are_installed_and_bring_no_nnlib(tmp_path):
    # Every widget module imports from anywhere, and none of them makes an nnlib importable;
    # a tool made without an nnlib to work on says what to do.
    code = ("import importlib, pkgutil, sys, nncourse.widgets, nncourse.plotting\n"
            "for info in pkgutil.iter_modules(nncourse.widgets.__path__):\n"
            "    importlib.import_module('nncourse.widgets.' + info.name)\n"
            "assert 'nnlib' not in sys.modules\n"
            "from nncourse.widgets.playground import Playground\n"
            "try:\n"
            "    Playground()\n"
            "except ModuleNotFoundError as error:\n"
            "    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": "", "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    assert "no nnlib to work on" in result.stdout and "Playground(nn=nnlib)" in result.stdout


def test_ci_runs_make_test_and_nothing_else():
    commands = [line for line in (REPO / ".ci/run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1].strip() == "make test"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not (REPO / ".venv/bin/jupyter").exists(), reason="make setup has not run")
def test_make_lab_serves_the_course(tmp_path):
    port, token = free_port(), "course-test-token"
    lab_args = f"--no-browser --ip 127.0.0.1 --port {port} --ServerApp.token={token}"
    log = open(tmp_path / "lab.log", "w")
    # A session of its own, so stopping it by its PID also stops the jupyter process make started.
    server = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={lab_args}"],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    try:
        deadline, status, body = time.monotonic() + 90, None, ""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}",
                                            timeout=5) as response:
                    status, body = response.status, response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, (tmp_path / "lab.log").read_text()[-2000:]
        assert "JupyterLab" in body
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
