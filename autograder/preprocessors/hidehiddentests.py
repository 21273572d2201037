"""Feedback stage: show where hidden tests ran, never their code."""
import re

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*$",
                    re.MULTILINE | re.DOTALL)
PLACEHOLDER = "# (hidden tests ran here; the message below says what they found)"


class HideHiddenTests(NbGraderPreprocessor):

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and is_grade(cell):
            cell.source = HIDDEN.sub(PLACEHOLDER, cell.source)
        return cell, resources
