"""nbgrader's configuration for this course, in one place.

The course folder's ``nbgrader_config.py`` calls ``configure`` for the course it is in (so the
``nbgrader`` command and the formgrader in JupyterLab see the same settings and gradebook), and the
``autograder`` library builds its own ``Config`` with ``course_config``, optionally pointing the
working folders somewhere else (tests grade a simulated class in a temporary folder). Which course:
``autograder.course_folder``.
"""
from pathlib import Path

from traitlets.config import Config

from .course import UNIT_IDS
from .editions import edition_files
from .course_folder import course_root

COURSE_ID = "nn-from-scratch"
CELL_TIMEOUT = 60          # seconds a cell may run before it is interrupted and scores 0
MAX_OUTPUT_LINES = 200     # lines of output kept per cell
MAX_OUTPUT_CHARS = 20_000  # characters of output kept per cell (a 50 MB print is cut to this)
# stderr output fails a cell in nbgrader; numpy's warnings (overflow in a student's exp, ...) must
# not fail a correct answer. Matches the "file:line: RuntimeWarning: ..." lines Python prints.
WARNING_PATTERN = r"^([^\n]*:\d+: )?\w*Warning: "


def configure(c, root=None, work_dir=None, cell_timeout=CELL_TIMEOUT, sandboxed=True):
    """Fill the nbgrader config ``c`` (a traitlets ``Config``) for the course at ``root`` (default:
    the course ``autograder.course_folder.find`` chooses).

    ``work_dir`` holds the submitted, autograded and feedback folders and the gradebook; it is
    ``root`` unless given. ``sandboxed=False`` runs student code without the sandbox
    (``autograder grade --no-sandbox``; never the default).
    """
    root = course_root(root)
    work_dir = Path(work_dir).resolve() if work_dir else root
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(work_dir)
    # Absolute paths: nbgrader joins them onto the root, which keeps them as they are.
    c.CourseDirectory.source_directory = str(root / "solutions")
    c.CourseDirectory.release_directory = str(root / "exercises")
    # Parallel graders share the gradebook: let SQLite wait for a lock instead of failing.
    c.CourseDirectory.db_url = f"sqlite:///{work_dir / 'gradebook.db'}?timeout=120"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

    # The student's nnlib must never be replaced by a source version (exact paths: nbgrader
    # ignores globs here). solutions/ holds no nnlib, so this is a second line of defence.
    c.Autograde.exclude_overwriting = {unit: edition_files(root / "nnlib") for unit in UNIT_IDS}
    # nbgrader's OverwriteCells compares a test cell with its source *before* the hidden tests were
    # cleared, so it reports every untouched hidden-test cell as changed (nbgrader issue #1961).
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "autograder.preprocessors.OverwriteReleasedCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.Autograde.autograde_preprocessors = [
        "autograder.preprocessors.SandboxedExecute",
        "nbgrader.preprocessors.IgnorePattern",
        "autograder.preprocessors.JudgeVerdicts",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "autograder.preprocessors.LimitOutputSize",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "autograder.preprocessors.ApplyDeadlines",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    # Every student's code runs in a sandbox of its own (autograder/sandbox.py): the kernel, through
    # SandboxedExecute, whatever kernel the notebook names, and the judge's children.
    c.SandboxedExecute.sandboxed = sandboxed
    c.JudgeVerdicts.sandboxed = sandboxed
    c.Execute.kernel_name = "python3"
    c.Execute.timeout = cell_timeout
    c.Execute.interrupt_on_timeout = True
    # A deleted test cell is put back and run, so deleting a test never skips it.
    c.OverwriteCells.add_missing_cells = True
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = WARNING_PATTERN
    c.LimitOutput.max_lines = MAX_OUTPUT_LINES
    c.LimitOutput.max_traceback = 30
    c.LimitOutputSize.max_chars = MAX_OUTPUT_CHARS
    c.JudgeVerdicts.submitted_directory = str(work_dir / "submitted")
    c.JudgeVerdicts.reference_directory = str(root / "nnlib")
    # Due dates, extensions and the late policy: deadlines.toml in the course folder
    # (autograder/deadlines.py), applied by nbgrader's own late-penalty stage.
    c.ApplyDeadlines.course_directory = str(work_dir)
    c.AssignLatePenalties.plugin_class = "autograder.deadlines.LatePenalty"
    c.LatePenalty.course_directory = str(work_dir)

    # Releasing writes the unit's nnlib edition as a stage of nbgrader's own step: the formgrader's
    # "Generate" (generate_assignment --force) removes exercises/<unit>/ first, edition included.
    c.GenerateAssignment.preprocessors = [
        "nbgrader.preprocessors.IncludeHeaderFooter",
        "nbgrader.preprocessors.InstantiateTests",
        "nbgrader.preprocessors.LockCells",
        "nbgrader.preprocessors.ClearSolutions",
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.CheckCellMetadata",
        "nbgrader.preprocessors.ComputeChecksums",
        "nbgrader.preprocessors.SaveCells",
        "nbgrader.preprocessors.ClearHiddenTests",
        "nbgrader.preprocessors.ClearMarkScheme",
        "nbgrader.preprocessors.ComputeChecksums",
        "nbgrader.preprocessors.CheckCellMetadata",
        "autograder.preprocessors.WriteEdition",
    ]
    c.WriteEdition.reference_directory = str(root / "nnlib")

    # generate_feedback replaces feedback/<student>/<unit>/ whole; its last stage writes the
    # student's summary.html there again, from grades/<unit>.json.
    c.GenerateFeedback.exporter_class = "autograder.feedback_exporter.FeedbackHTMLExporter"
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.preprocessors.HideHiddenTests",
        "autograder.preprocessors.TrimTracebacks",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
        "autograder.preprocessors.WriteSummaryPage",
    ]
    return c


def course_config(root=None, work_dir=None, cell_timeout=CELL_TIMEOUT, sandboxed=True):
    """A fresh ``Config`` for the course (see ``configure``)."""
    return configure(Config(), root=root, work_dir=work_dir, cell_timeout=cell_timeout,
                     sandboxed=sandboxed)
