"""How the autograder calls nbgrader: a new gradebook is stamped without starting ``alembic``."""
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_schema_revision_is_what_the_alembic_command_answers():
    from autograder.nbgrader_api import schema_revision

    tools = str(Path(sys.executable).parent)
    answer = subprocess.run(
        [sys.executable, "-c", "from nbgrader.api import get_alembic_version as v; print(v())"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PATH": tools + os.pathsep + os.environ.get("PATH", "")})
    assert schema_revision() == answer.stdout.strip()
    assert len(schema_revision()) >= 12  # a revision id, not an empty head


def test_a_new_gradebook_is_stamped_in_process(tmp_path, monkeypatch):
    """nbgrader's migrations see the stamp: a gradebook made this way is one nbgrader made."""
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, text

    from autograder.nbgrader_api import ready_for_new_gradebooks, schema_revision

    ready_for_new_gradebooks()

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "check_output", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "course") as gradebook:
        gradebook.add_assignment("unit")
    with create_engine(url).connect() as connection:
        stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert stamped == schema_revision()


@pytest.mark.parametrize("module", ["nbformat", "nbgrader.apps"])
def test_importing_nbgrader_does_not_compile_grammars(module):
    """jsonschema 4.25 and later import rfc3987-syntax, which compiles about 35 Earley parsers when
    imported (python-jsonschema/jsonschema#1428): over a second for every process that imports
    nbformat (each grading worker, each `autograder` command). pyproject.toml keeps it out."""
    imported = subprocess.run([sys.executable, "-c", f"import sys, {module}; "
                               "print('rfc3987_syntax' in sys.modules, 'lark' in sys.modules)"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert imported == ["False", "False"]
