"""Feedback stage: the student's ``summary.html``, rebuilt from ``grades/<unit>.json`` with the
grades and comments given in the formgrader since (``autograder.adjustments``).

``nbgrader generate_feedback`` replaces ``feedback/<student>/<unit>/`` whole (with ``--force``, or
when the submission was autograded again), and with it the summary page ``autograder feedback``
wrote there; as one of its stages the page is written again from the last grading run's results.
"""
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import results
from ..adjustments import adjust
from ..deadlines import load as load_deadlines
from ..feedback import write_summary_page
from .converterfolder import converter_of, destination_folder


class WriteSummaryPage(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        unit, student_id = resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]
        work_dir = converter_of(self).coursedir.root
        try:
            report = results.load(unit, work_dir)
            report.students = [s for s in report.students if s.student_id == student_id]
            adjust(report, work_dir)  # the formgrader's grades and comments, the late penalty
        except FileNotFoundError:
            self.log.warning("No summary page for %s: %s has not been graded by `autograder grade`",
                             student_id, unit)
            return nb, resources
        except (ValueError, KeyError, TypeError) as error:  # damaged: say so, render the notebook
            self.log.error("No summary page for %s: grades/%s.json or deadlines.toml cannot be "
                           "read (%s)", student_id, unit, error)
            return nb, resources
        if not report.students:
            self.log.warning("No summary page for %s: not in grades/%s.json", student_id, unit)
        else:
            write_summary_page(destination_folder(self, resources), unit, report.students[0],
                               load_deadlines(work_dir).policy)
        return nb, resources
