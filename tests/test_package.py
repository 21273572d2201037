"""The package surface: every exported name resolves, and one broken module does not break others."""
import shutil
import subprocess
import sys
from pathlib import Path

import nnlib

REPO = Path(__file__).resolve().parents[1]


def test_every_export_and_submodule_resolves():
    for name in nnlib.__all__:
        assert getattr(nnlib, name) is not None, name
    from nnlib import Linear, Sequential, fit  # noqa: F401
    assert nnlib.layers.Linear is nnlib.Linear
    assert "layers" in dir(nnlib)


def test_a_syntax_error_in_one_module_leaves_the_others_importable(tmp_path):
    copy = tmp_path / "nnlib"
    shutil.copytree(REPO / "nnlib", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "losses.py").write_text("def broken(:\n")
    code = ("import nnlib\nfrom nnlib.functional import sigmoid\nprint(sigmoid(0.0))\n"
            "try:\n    from nnlib.losses import MSELoss\nexcept SyntaxError:\n    print('losses broken')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.5", "losses", "broken"]
