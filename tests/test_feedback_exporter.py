"""The feedback pages' exporter: nbconvert's HTML exporter, its templates compiled once per process."""
import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter

from autograder.feedback_exporter import COMPILED_TEMPLATES, FeedbackHTMLExporter


NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A $x^2$ title"),
                                           nbformat.v4.new_code_cell("print(1 + 1)")])


def test_the_page_is_nbconverts_and_a_second_exporter_compiles_nothing(monkeypatch):
    first, _ = FeedbackHTMLExporter().from_notebook_node(NOTEBOOK)
    assert COMPILED_TEMPLATES.compiled  # the templates the page used, as bytecode

    def compile_again(*args, **kwargs):
        raise AssertionError("a template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", compile_again)
    second, _ = FeedbackHTMLExporter().from_notebook_node(NOTEBOOK)
    assert second == first
    monkeypatch.undo()
    assert HTMLExporter().from_notebook_node(NOTEBOOK)[0] == first


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
