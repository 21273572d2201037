"""Autograde stage: the course's due date and this student's extension, into the gradebook.

Runs before nbgrader's ``AssignLatePenalties``, which reads both from the gradebook, so that
``nbgrader autograde`` and ``autograder grade`` penalise the same submissions the same way
(``autograder.deadlines``). A unit missing from ``deadlines.toml`` keeps the due date set in the
formgrader; the file is the only source of extensions (nbgrader's own commands cannot set one).
"""
from datetime import timezone

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


class ApplyDeadlines(NbGraderPreprocessor):

    course_directory = Unicode("", help="The folder holding deadlines.toml").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.deadlines import load

        deadlines = load(self.course_directory)
        unit, student = resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            if unit in deadlines.due:
                assignment = gradebook.find_assignment(unit)
                assignment.duedate = deadlines.due[unit].astimezone(timezone.utc).replace(tzinfo=None)
            submission = gradebook.find_submission(unit, student)
            extension = deadlines.extensions.get(unit, {}).get(student)
            submission.extension = extension or None
            gradebook.db.commit()
        return nb, resources
