"""Feedback stage: the student's ``summary.html``, rebuilt from ``grades/<unit>.json``.

``nbgrader generate_feedback`` replaces ``feedback/<student>/<unit>/`` whole (with ``--force``, or
when the submission was autograded again), and with it the summary page ``autograder feedback``
wrote there; as one of its stages the page is written again from the last grading run's results.
"""
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import results
from ..feedback import write_summary_page
from .converterfolder import converter_of, destination_folder


class WriteSummaryPage(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        unit, student_id = resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]
        work_dir = converter_of(self).coursedir.root
        try:
            report = results.load(unit, work_dir)
        except FileNotFoundError:
            self.log.warning("No summary page for %s: %s has not been graded by `autograder grade`",
                             student_id, unit)
            return nb, resources
        except (ValueError, KeyError) as error:  # a damaged file: say so, render the notebook still
            self.log.error("No summary page for %s: grades/%s.json cannot be read (%s)",
                           student_id, unit, error)
            return nb, resources
        student = next((s for s in report.students if s.student_id == student_id), None)
        if student is None:
            self.log.warning("No summary page for %s: not in grades/%s.json", student_id, unit)
        else:
            write_summary_page(destination_folder(self, resources), unit, student)
        return nb, resources
