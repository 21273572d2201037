"""The visible-test helper students see in the notebooks."""
from pathlib import Path

import numpy as np
import pytest

from nnlib.testing import check_close


def test_check_close_passes_with_a_tick(capsys):
    check_close("identity", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-12])
    assert "\u2713 identity" in capsys.readouterr().out


@pytest.mark.parametrize("actual, message", [
    (None, "got None"),
    ([1.0, 2.0], "expected a numpy array"),
    (np.ones(3), r"expected shape \(2,\)"),
    (np.array([3.0, 6.0]), "3 times too large"),
    (np.array([1.0, 2.1]), "expected"),
])
def test_check_close_explains_failures(actual, message):
    with pytest.raises(AssertionError, match=message):
        check_close("f(x)", actual, np.array([1.0, 2.0]))


def test_check_close_accepts_numbers():
    check_close("a number", 0.25, 0.25)
    with pytest.raises(AssertionError):
        check_close("a number", 0.5, 0.25)


def test_a_hint_ends_in_one_stop():
    # The diagnosis of a result 2 times too small ends in a question: no stray "?." after it.
    with pytest.raises(AssertionError) as caught:
        check_close("dW", np.array([0.5, 1.0]), np.array([1.0, 2.0]))
    message = str(caught.value)
    assert "2 times too small" in message and message.endswith("divide twice?"), message


FAILING_CHECK = '''x = np.array([1.0, 2.0]) / 2
check_close("grads['W']",
            x, [1.0, 2.0])'''


def test_a_failed_check_reads_as_its_message_under_the_cell_line_in_a_real_kernel(tmp_path):
    """Executed by a real kernel as a student runs it: the error shows the cell's line and the
    message, and no frame of the course's helpers (nnlib/testing.py, nnlib/gradcheck.py)."""
    import nbformat
    from nbclient import NotebookClient

    REPO = Path(__file__).resolve().parents[1]

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(REPO)!r})\nimport numpy as np\n"
                                  "from nnlib.testing import check_close, check_stable"),
        nbformat.v4.new_code_cell(FAILING_CHECK),
        nbformat.v4.new_code_cell("check_stable('sigmoid at -1000', lambda: 1 / (1 + np.exp(np.array([1000.0]))),\n"
                                  "             'Use each form where its exponent is at most 0.')"),
        nbformat.v4.new_code_cell("assert 1 + 1 == 3, 'a plain assert keeps its usual traceback'"),
    ]
    NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [[output for output in cell.outputs if output.output_type == "error"]
              for cell in notebook.cells]
    assert not errors[0]
    (check,), (stable,), (plain,) = errors[1:]
    text = "\n".join(check.traceback)
    assert check.ename == "CheckFailed"
    assert "testing.py" not in text and "gradcheck.py" not in text and "Traceback" not in text, text
    assert "Cell In[2], line 2" in text, text
    assert 'check_close("grads[\'W\']",' in text and "x, [1.0, 2.0])" in text, text
    assert "\u2717 grads['W']: expected [1. 2.]" in text
    assert text.endswith("did you take a mean where a sum is needed, or divide twice?"), text
    text = "\n".join(stable.traceback)
    assert "testing.py" not in text and "Cell In[3], line 1" in text, text
    assert "a floating-point overflow (numpy: overflow encountered in exp)" in text
    # The control: without _render_traceback_ IPython shows every frame, as for this assert.
    assert "Traceback" in "\n".join(plain.traceback)
