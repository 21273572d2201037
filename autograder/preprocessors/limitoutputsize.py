"""Cut each cell's text output to a number of characters.

nbgrader's ``LimitOutput`` counts lines, so a 50 MB print on one line would be kept whole, in the
graded notebook and in the feedback page. This stage runs before it.
"""
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer


class LimitOutputSize(NbGraderPreprocessor):

    max_chars = Integer(20_000, help="Characters of text output kept per cell (-1: no limit)"
                        ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if self.max_chars < 0 or cell.cell_type != "code":
            return cell, resources
        budget = self.max_chars
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text, budget = self._cut(output.text, budget)
            elif "data" in output and "text/plain" in output.data:
                output.data["text/plain"], budget = self._cut(output.data["text/plain"], budget)
            elif output.output_type == "error":
                output.evalue, budget = self._cut(output.evalue, budget)
        return cell, resources

    @staticmethod
    def _cut(text, budget):
        if isinstance(text, list):
            text = "".join(text)
        if len(text) <= budget:
            return text, budget - len(text)
        return (text[:max(budget, 0)] + f"\n... output truncated: {len(text):,} characters, "
                f"{max(budget, 0):,} kept ...\n"), 0
