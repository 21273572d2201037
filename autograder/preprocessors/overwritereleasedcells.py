"""Autograde's sanitising stage: nbgrader's ``OverwriteCells``, comparing a locked cell with the
version the student received.

nbgrader records a cell's source and checksum in the gradebook (``SaveCells``) *before*
``ClearHiddenTests`` removes the hidden tests from the release, so for every test cell holding
hidden tests the recorded checksum is not the one of the cell students get. ``OverwriteCells`` then
finds every untouched test cell "changed" (nbgrader issue #1961) and logs so, which drowns the
warning about a cell a student really edited. Here a cell identical to the released form of its
source is put back to the source first, so nbgrader's own check sees it unchanged; any other
difference is still reported and overwritten by nbgrader as before.
"""
from nbformat.notebooknode import NotebookNode
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells


class OverwriteReleasedCells(OverwriteCells):

    def released_source(self, source_cell):
        """The source of ``source_cell`` as ``generate_assignment`` released it (hidden tests out,
        with the delimiters this course's config sets)."""
        released = NotebookNode(source=source_cell.source)
        ClearHiddenTests(parent=self)._remove_hidden_test_region(released)
        return released.source

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id,
                                                              self.assignment_id)
            except MissingEntry:
                source_cell = None  # nbgrader's own stage says so and drops the id
            if (source_cell is not None and source_cell.locked
                    and cell.source == self.released_source(source_cell)):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)
