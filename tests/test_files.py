"""Result files are replaced in one step: an interrupted write leaves the old file whole."""
import os

import pytest

from autograder.files import write_atomically


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "grades" / "unit.csv"
    write_atomically(path, "old\n")
    write_atomically(path, b"new\n")
    assert path.read_text() == "new\n" and os.listdir(path.parent) == ["unit.csv"]


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "unit.json"
    write_atomically(path, "old")

    def interrupted(source, destination):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, "new")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["unit.json"]
