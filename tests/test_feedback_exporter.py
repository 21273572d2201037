"""The feedback pages' exporter: nbconvert's HTML exporter, its templates compiled once per process,
its page not parsed a second time."""
import base64
import os

import jinja2
import nbformat
import nbgrader
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter

from autograder.feedback_exporter import COMPILED_TEMPLATES, NO_TEXT, FeedbackHTMLExporter


NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A $x^2$ title"),
                                           nbformat.v4.new_code_cell("print(1 + 1)")])
# nbgrader's feedback template and its style sheet, where generate_feedback finds them
FORMGRADER = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
FEEDBACK_TEMPLATES = os.path.join(FORMGRADER, "templates")
BOOTSTRAP = os.path.join(FORMGRADER, "static", "node_modules", "bootstrap", "dist", "css")
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2ddd3ba0000000049454e44ae426082")).decode()


def with_images():
    """A graded notebook as a feedback page shows it: figures (no alternative text), a picture in
    the text (with one), a stream, an error."""
    figure = nbformat.v4.new_output("display_data", data={"image/png": PIXEL,
                                                          "text/plain": "<Figure size 640x480>"})
    plot = nbformat.v4.new_code_cell("plt.show()", outputs=[figure, figure], metadata={
        "nbgrader": {"grade": True, "grade_id": "plots", "points": 2, "score": 1.0,
                     "solution": False, "task": False}})
    printed = nbformat.v4.new_code_cell("print(2)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="2\n")])
    failed = nbformat.v4.new_code_cell("1 / 0", outputs=[nbformat.v4.new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["1 / 0"])])
    text = nbformat.v4.new_markdown_cell(f"Below, ![a dot](data:image/png;base64,{PIXEL}) and "
                                         "$\\frac{1}{2}$ and <img src='x.png'/>")
    return nbformat.v4.new_notebook(cells=[text, plot, printed, failed],
                                    metadata={"language_info": {"name": "python"}})


@pytest.mark.parametrize("template", ["feedback", "classic", "lab"])
def test_the_page_is_nbconverts_once_parsed(template):
    """nbconvert parses its page with BeautifulSoup and writes it out again; this exporter does
    not, and gives the images without an alternative text the same one."""
    options = dict(template_name=template, extra_template_basedirs=[FEEDBACK_TEMPLATES],
                   extra_template_paths=[BOOTSTRAP])
    notebook = with_images()
    graded = {"nbgrader": {"notebook": "unit", "score": 1.0, "max_score": 2.0, "late_penalty": 0}}
    ours, _ = FeedbackHTMLExporter(**options).from_notebook_node(notebook, dict(graded))
    theirs, _ = HTMLExporter(**options).from_notebook_node(notebook, dict(graded))
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    if template != "lab":  # nbconvert's own pass, for JupyterLab's templates
        assert ours != theirs and ours.count(f'alt="{NO_TEXT}"') == 3  # two figures, x.png


def test_the_page_is_nbconverts_and_a_second_exporter_compiles_nothing(monkeypatch):
    first, _ = FeedbackHTMLExporter().from_notebook_node(NOTEBOOK)
    assert COMPILED_TEMPLATES.compiled  # the templates the page used, as bytecode

    def compile_again(*args, **kwargs):
        raise AssertionError("a template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", compile_again)
    second, _ = FeedbackHTMLExporter().from_notebook_node(NOTEBOOK)
    assert second == first
    monkeypatch.undo()
    assert HTMLExporter().from_notebook_node(NOTEBOOK)[0] == str(BeautifulSoup(
        first, features="html.parser"))


def test_an_edited_template_is_compiled_afresh(tmp_path):
    (tmp_path / "page.html.j2").write_text("one {{ nb.cells | length }}")
    exporter = FeedbackHTMLExporter(template_file=str(tmp_path / "page.html.j2"))
    assert exporter.from_notebook_node(NOTEBOOK)[0] == "one 2"
    (tmp_path / "page.html.j2").write_text("two {{ nb.cells | length }}")
    exporter = FeedbackHTMLExporter(template_file=str(tmp_path / "page.html.j2"))
    assert exporter.from_notebook_node(NOTEBOOK)[0] == "two 2"


def test_generate_feedback_uses_it():
    from autograder.settings import course_config

    assert course_config().GenerateFeedback.exporter_class == \
        "autograder.feedback_exporter.FeedbackHTMLExporter"
