"""Files the course reads and writes.

Result files are written so that a reader never sees half of one: write a sibling, then rename. A
rename within one folder is atomic on POSIX: an interrupted run leaves either the old file or the
new one, never a truncated mix (a CSV an LMS would import half of). The CSV files an instructor
gives (an id mapping, a roster, submission times) are read by ``csv_rows``.
"""
import contextlib
import csv
import os
import tempfile
import unicodedata
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


def csv_rows(path, columns):
    """``(where, row)`` for each row of the CSV file ``path``: ``where`` names its line for an error
    message (``"ids.csv line 3"``), ``row`` maps each of ``columns`` to its value, stripped and in
    NFC (the form most systems write accented names in). ``ValueError`` when a column is missing."""
    with open(path, newline="", encoding="utf-8-sig") as handle:  # utf-8-sig: Excel's BOM
        reader = csv.DictReader(handle)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{Path(path).name}: expected the columns {','.join(columns)}; "
                             f"missing {', '.join(sorted(missing))}")
        for row in reader:
            yield (f"{Path(path).name} line {reader.line_num}",
                   {column: unicodedata.normalize("NFC", (row[column] or "").strip())
                    for column in columns})
