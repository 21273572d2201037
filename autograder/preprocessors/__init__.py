"""nbgrader stages of this course, one small class per file (each configurable like nbgrader's own)."""
from .applydeadlines import ApplyDeadlines
from .hidehiddentests import HideHiddenTests
from .judgeverdicts import JudgeVerdicts
from .limitoutputsize import LimitOutputSize
from .overwritereleasedcells import OverwriteReleasedCells
from .sandboxedexecute import SandboxedExecute
from .trimtracebacks import TrimTracebacks
from .writeedition import WriteEdition
from .writesummarypage import WriteSummaryPage

__all__ = ["ApplyDeadlines", "HideHiddenTests", "JudgeVerdicts", "LimitOutputSize", "OverwriteReleasedCells",
           "SandboxedExecute", "TrimTracebacks", "WriteEdition", "WriteSummaryPage"]
