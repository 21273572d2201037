"""Release stage: the unit's ``nnlib`` edition, written next to the student notebook.

``nbgrader generate_assignment --force`` (the formgrader's "Generate") removes
``exercises/<unit>/`` before it writes the notebook; as one of its stages the edition is written
again every time, and a failure fails the step instead of leaving a release without its library.
"""
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..editions import write_edition
from .converterfolder import destination_folder


class WriteEdition(NbGraderPreprocessor):

    reference_directory = Unicode("", help="The reference nnlib the edition is made from (default: "
                                  "the course autograder.course_folder finds)").tag(config=True)

    def preprocess(self, nb, resources):
        unit = resources["nbgrader"]["assignment"]
        folder = destination_folder(self, resources)
        write_edition(unit, folder, self.reference_directory or None)
        self.log.info("Wrote the nnlib edition of %s in %s", unit, folder)
        return nb, resources
