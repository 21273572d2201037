"""Autograde stage: a test cell scores only if the judge agrees with the hidden test.

Runs after ``Execute``. For each test cell, the graded functions its hidden tests name
(``grade("nnlib....")``) are judged outside the student's kernel (``autograder.judge``) on the
submitted files, which the kernel never sees (it works on a copy in its sandbox); when the judge
disagrees, the cell gets an error output with the judge's message, so ``SaveAutoGrades`` gives it zero
whatever the kernel printed. The in-kernel hidden test only checks that ``nnlib`` is the student's:
nothing in the kernel can read the reference, so every comparison with it is made here.
"""
import re
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Bool, Integer, Unicode

from .. import timings

GRADED_NAME = re.compile(r'grade\(\s*"(nnlib\.[A-Za-z0-9_.]+)"')


class JudgeVerdicts(NbGraderPreprocessor):

    enabled = Bool(True, help="Judge every graded function outside the student's kernel").tag(config=True)
    submitted_directory = Unicode("", help="Folder holding <student>/<assignment>/ as submitted"
                                  ).tag(config=True)
    reference_directory = Unicode("", help="The course's reference nnlib (default: the course "
                                  "autograder.course_folder finds)").tag(config=True)
    sandboxed = Bool(True, help="Judge in a sandbox per process (bubblewrap); False only with "
                                "`autograder grade --no-sandbox`").tag(config=True)
    seed = Integer(None, allow_none=True,
                   help="The probes' seed (``autograder grade`` derives it from the submission and "
                        "a secret of the course); None: a fresh random one").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.judge import judge  # imported here: nbgrader loads stages at start-up

        cells = [(cell, GRADED_NAME.findall(cell.source)) for cell in nb.cells
                 if cell.cell_type == "code" and is_grade(cell)]
        names = sorted({name for _, found in cells for name in found})
        if not names:
            return nb, resources
        folder = Path(self.submitted_directory) / resources["nbgrader"]["student"] / \
            resources["nbgrader"]["assignment"]
        with timings.Stage("judge"):
            verdicts = judge(names, folder, seed=self.seed, sandboxed=self.sandboxed,
                             reference_dir=self.reference_directory or None)
        for cell, found in cells:
            failed = [verdicts[name] for name in found if not verdicts[name].passed]
            if failed:
                message = "; ".join(verdict.message for verdict in failed)
                # First: the judge's word is the cell's verdict, whatever the kernel printed after.
                cell.outputs.insert(0, NotebookNode(output_type="error", ename="JudgeError",
                                                    evalue=message, traceback=[f"JudgeError: {message}"]))
        return nb, resources
