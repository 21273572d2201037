"""The exporter ``generate_feedback`` renders each graded notebook with: nbconvert's HTML exporter,
its templates compiled once per process.

nbgrader makes a new exporter for every student, and nbconvert a new Jinja environment for every
exporter, so the feedback templates were compiled again for every page. Jinja's bytecode cache
keys a compiled template by its name and the checksum of its source: an edited template is
compiled afresh.
"""
from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter


class _InMemory(BytecodeCache):
    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _InMemory()


class FeedbackHTMLExporter(HTMLExporter):
    """``HTMLExporter`` sharing this process's compiled templates (configured as
    ``GenerateFeedback.exporter_class``)."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED_TEMPLATES
        return environment
