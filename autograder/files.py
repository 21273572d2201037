"""Writing result files so that a reader never sees half of one: write a sibling, then rename.

A rename within one folder is atomic on POSIX: an interrupted run leaves either the old file or the
new one, never a truncated mix (a CSV an LMS would import half of).
"""
import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path, content):
    """Replace ``path`` with ``content`` (``str`` as UTF-8, or ``bytes``) in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path
