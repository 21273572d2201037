"""The exporter ``generate_feedback`` renders each graded notebook with: nbconvert's HTML exporter,
its templates compiled once per process, and its page not parsed a second time.

nbgrader makes a new exporter for every student, and nbconvert a new Jinja environment for every
exporter, so the feedback templates were compiled again for every page. Jinja's bytecode cache
keys a compiled template by its name and the checksum of its source: an edited template is
compiled afresh.

nbconvert's exporter then parses the whole page with BeautifulSoup and writes it out again, to
give each image without one an alternative text and to make the cells of JupyterLab's templates
focusable: a third of a feedback page's CPU. The feedback template has no such cells, so the
alternative text is given here, to the ``<img>`` tags it wrote; the page is nbconvert's once
parsed (``tests/test_feedback_exporter.py``).
"""
import re

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter


class _InMemory(BytecodeCache):
    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _InMemory()


# An <img> tag without an alt attribute: its attributes, and how it closes.
IMAGE_WITHOUT_TEXT = re.compile(r"<img\b(?![^>]*\salt=)([^>]*?)(\s*/?)>")
NO_TEXT = "No description has been provided for this image"  # nbconvert's words
LAB_CELLS = ("jp-Cell-inputWrapper", "jp-OutputArea-output")  # made focusable by nbconvert


class FeedbackHTMLExporter(HTMLExporter):
    """``HTMLExporter`` sharing this process's compiled templates, its page not parsed again
    (configured as ``GenerateFeedback.exporter_class``)."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED_TEMPLATES
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node up to its BeautifulSoup pass
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if any(cells in page for cells in LAB_CELLS):  # a JupyterLab template: nbconvert's way
            return super().from_notebook_node(nb, resources, **kw)
        return IMAGE_WITHOUT_TEXT.sub(rf'<img\1 alt="{NO_TEXT}"\2>', page), resources
