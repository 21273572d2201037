"""Feedback stage: an error shows its message, not a traceback through the grading code.

The hidden tests' messages say what is wrong and where to look; the frames below them would only
show the autograder's internals (and its reference code).
"""
from nbgrader.preprocessors import NbGraderPreprocessor


class TrimTracebacks(NbGraderPreprocessor):

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
