"""The intake (autograder.intake) on its own, no grading: each kind of submission, by both paths.

``export`` is ``autograder grade --submissions DIR`` (an LMS export, only read); ``submitted`` is
what ``submitted/`` already holds. Both must give the same students, problems and notes.
"""
import hashlib
import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from autograder import intake
from autograder.cli import main

REPO = Path(__file__).resolve().parents[1]

UNIT = "01_linear_limits"
SOURCE = REPO / "solutions" / UNIT / f"{UNIT}.ipynb"
OTHER_UNIT_SOURCE = REPO / "solutions" / "02_xor" / "02_xor.ipynb"
PATHS = ["export", "submitted"]


def hand_in(folder, notebook_name=f"{UNIT}.ipynb", notebook=SOURCE):
    """A submission in ``folder``: a notebook (the unit's source: it has the nbgrader metadata)
    and an ``nnlib/`` package."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, folder / notebook_name)
    (folder / "nnlib").mkdir()
    (folder / "nnlib" / "__init__.py").write_text("# the student's nnlib\n")
    return folder


def digest(folder):
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def take_in(path, tmp_path, students, mapping=None):
    """Lay out ``students`` (``{folder name: build(folder)}``) for ``path`` and run the intake."""
    work = tmp_path / "work"
    if path == "export":
        export = tmp_path / "export"
        for name, build in students.items():
            build(export / name)
        before = digest(export)
        result = intake.take_in(UNIT, work, REPO, submissions=export, mapping=mapping)
        assert digest(export) == before, "the LMS export must only be read"
        return result, work
    for name, build in students.items():
        build(work / "submitted" / name / UNIT)
    return intake.take_in(UNIT, work, REPO, mapping=mapping), work


def graded_copy(work, student):
    return work / "submitted" / student / UNIT


@pytest.mark.parametrize("path", PATHS)
def test_a_renamed_notebook_is_found_by_its_metadata_renamed_and_noted(path, tmp_path):
    result, work = take_in(path, tmp_path, {
        "alice": lambda folder: hand_in(folder, f"{UNIT} (1).ipynb")})
    assert result.students == ["alice"] and not result.problems
    copy = graded_copy(work, "alice")
    assert sorted(p.name for p in copy.iterdir()) == [f"{UNIT}.ipynb", "nnlib"]
    assert (copy / f"{UNIT}.ipynb").read_bytes() == SOURCE.read_bytes()
    [note] = result.notes["alice"]
    assert f"{UNIT} (1).ipynb" in note and "no points lost" in note
    if path == "submitted":  # what was handed in is kept, whole, out of nbgrader's sight
        aside = work / "submitted" / "alice" / f".{UNIT}.as-submitted"
        assert (aside / f"{UNIT} (1).ipynb").read_bytes() == SOURCE.read_bytes()


@pytest.mark.parametrize("path", PATHS)
def test_two_copies_of_the_notebook_grade_the_one_under_its_name_and_say_so(path, tmp_path):
    def two_copies(folder):
        hand_in(folder)
        shutil.copy(SOURCE, folder / f"{UNIT} (1).ipynb")

    result, work = take_in(path, tmp_path, {"alice": two_copies})
    assert result.students == ["alice"]
    [note] = result.notes["alice"]
    assert f"'{UNIT} (1).ipynb', another copy" in note and f"'{UNIT}.ipynb' was graded" in note


def test_an_export_brings_its_students_only_unless_asked_for_what_submitted_holds(tmp_path):
    work, export = tmp_path / "work", tmp_path / "export"
    hand_in(work / "submitted" / "earlier" / UNIT, f"{UNIT} (1).ipynb")
    hand_in(work / "submitted" / "bob" / UNIT)
    hand_in(export / "alice")
    (export / "bob").mkdir()  # bob's new hand-in is empty: it replaces the one submitted/ held
    brought = intake.take_in(UNIT, work, REPO, submissions=export)
    assert brought.students == ["alice"] and brought.problems == {"bob": intake.EMPTY}
    both = intake.take_in(UNIT, work, REPO, submissions=export, also_submitted=True)
    assert both.students == ["alice", "earlier"] and both.problems == {"bob": intake.EMPTY}
    assert list(both.notes) == ["earlier"]


def test_a_second_renamed_hand_in_keeps_the_first_one_aside(tmp_path):
    take_in("submitted", tmp_path, {"alice": lambda folder: hand_in(folder, "first.ipynb")})
    submitted = tmp_path / "work" / "submitted" / "alice"
    shutil.rmtree(submitted / UNIT)
    hand_in(submitted / UNIT, "second.ipynb")
    intake.take_in(UNIT, tmp_path / "work", REPO)
    assert (submitted / f".{UNIT}.as-submitted" / "first.ipynb").is_file()
    assert (submitted / f".{UNIT}.as-submitted-2" / "second.ipynb").is_file()
    assert (submitted / UNIT / f"{UNIT}.ipynb").is_file()


@pytest.mark.parametrize("path", PATHS)
def test_a_nested_submission_is_unwrapped(path, tmp_path):
    result, work = take_in(path, tmp_path, {
        "bob": lambda folder: hand_in(folder / "Downloads" / "bob_submission" / UNIT)})
    assert result.students == ["bob"] and not result.problems and not result.notes
    copy = graded_copy(work, "bob")
    assert sorted(p.name for p in copy.iterdir()) == [f"{UNIT}.ipynb", "nnlib"]
    assert (copy / "nnlib" / "__init__.py").is_file()


@pytest.mark.parametrize("path", PATHS)
def test_empty_and_unreadable_submissions_get_a_message_for_the_student(path, tmp_path):
    def garbage(folder):
        folder.mkdir(parents=True)
        (folder / "my work.ipynb").write_text("{ this is not json")

    def nnlib_only(folder):
        hand_in(folder)
        (folder / f"{UNIT}.ipynb").unlink()

    result, work = take_in(path, tmp_path, {"empty": lambda folder: folder.mkdir(parents=True),
                                            "garbage": garbage, "no_notebook": nnlib_only})
    assert result.students == []
    assert result.problems == {"empty": intake.EMPTY, "garbage": intake.UNREADABLE_NOTEBOOK,
                               "no_notebook": intake.NO_NOTEBOOK}
    for message in result.problems.values():
        assert "Exception" not in message and "Error" not in message
        assert "/" not in message and str(tmp_path) not in message


def test_a_submission_that_cannot_be_copied_gets_a_message_and_the_others_are_taken(
        tmp_path, monkeypatch):
    copytree = shutil.copytree

    def fails_for_bob(source, target, *args, **kwargs):
        if "bob" in Path(target).parts:
            raise shutil.Error([(str(source), str(target), "[Errno 13] Permission denied")])
        return copytree(source, target, *args, **kwargs)

    monkeypatch.setattr(intake.shutil, "copytree", fails_for_bob)
    result, work = take_in("export", tmp_path, {"alice": hand_in, "bob": hand_in})
    assert result.students == ["alice"] and result.problems == {"bob": intake.UNREADABLE}
    assert not graded_copy(work, "bob").exists()


@pytest.mark.parametrize("path", PATHS)
def test_another_units_notebook_is_not_taken_for_this_one(path, tmp_path):
    result, _ = take_in(path, tmp_path, {
        "carol": lambda folder: hand_in(folder, "02_xor.ipynb", notebook=OTHER_UNIT_SOURCE)})
    assert result.students == [] and result.problems == {"carol": intake.NO_NOTEBOOK}


@pytest.mark.parametrize("path", PATHS)
def test_a_notebook_under_its_own_name_is_taken_even_broken(path, tmp_path):
    def without_tests(folder):
        hand_in(folder)
        notebook = json.loads((folder / f"{UNIT}.ipynb").read_text())
        notebook["cells"] = [cell for cell in notebook["cells"]
                             if "nbgrader" not in cell.get("metadata", {})]
        (folder / f"{UNIT}.ipynb").write_text(json.dumps(notebook))

    def corrupt(folder):
        hand_in(folder)
        (folder / f"{UNIT}.ipynb").write_text(SOURCE.read_text()[:500])

    def without_nnlib(folder):
        shutil.rmtree(hand_in(folder) / "nnlib")

    result, _ = take_in(path, tmp_path, {"dave": without_tests, "erin": corrupt,
                                         "frank": without_nnlib})
    # nbgrader grades them and says what is wrong (zero for a corrupt file, with the reason)
    assert result.students == ["dave", "erin", "frank"]
    assert not result.problems and not result.notes


@pytest.mark.parametrize("path", PATHS)
def test_one_student_id_rule_for_both_paths(path, tmp_path):
    result, work = take_in(path, tmp_path, {"Zoë Martin": hand_in, "o'brien": hand_in,
                                            "Doe, Jane": hand_in, "x@uni.edu": hand_in})
    assert result.students == ["Zoë Martin", "x@uni.edu"]
    assert set(result.unidentified) == {"o'brien", "Doe, Jane"}
    assert all("--ids" in why for why in result.unidentified.values())
    assert graded_copy(work, "Zoë Martin").is_dir()


@pytest.mark.parametrize("name", ["Zoë Martin", "jdoe", "x@uni.edu", "anne-marie.o_neil", "李雷"])
def test_usable_ids(name):
    assert intake.is_student_id(name)


@pytest.mark.parametrize("name", ["", "jdoe\n", " jdoe", "jane  doe", "doe, jane", ".hidden",
                                  "a/b", "o'brien", "tab\there"])
def test_unusable_ids(name):
    assert not intake.is_student_id(name)


def test_a_decomposed_accent_from_an_export_becomes_the_composed_id(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Zoë")
    result, work = take_in("export", tmp_path, {decomposed: hand_in})
    assert result.students == ["Zoë"] and graded_copy(work, "Zoë").is_dir()


@pytest.mark.parametrize("path", PATHS)
def test_a_mapping_file_names_the_student_of_an_lms_folder(path, tmp_path):
    mapping = tmp_path / "ids.csv"
    mapping.write_text("lms_name,student_id\n"
                       '"Doe, Jane_4711_assignsubmission_file_",jdoe\n', encoding="utf-8")
    result, work = take_in(path, tmp_path, {"Doe, Jane_4711_assignsubmission_file_": hand_in},
                           mapping=mapping)
    assert result.students == ["jdoe"] and not result.unidentified
    assert (graded_copy(work, "jdoe") / f"{UNIT}.ipynb").is_file()
    assert not (work / "submitted" / "Doe, Jane_4711_assignsubmission_file_" / UNIT).exists()


def test_two_folders_of_one_student_keep_the_first_and_say_so(tmp_path):
    result, _ = take_in("export", tmp_path, {"jdoe": hand_in, "Jane Doe": hand_in},
                        mapping={"Jane Doe": "jdoe"})
    assert result.students == ["jdoe"]
    assert "jdoe already handed in" in result.unidentified["jdoe"]


@pytest.mark.parametrize("text, expected", [
    ("name,id\na,b\n", "missing lms_name, student_id"),
    ("lms_name,student_id\na,bad/id\n", "line 2: 'bad/id' is not a usable student id"),
    ("lms_name,student_id\na,x\na,y\n", "line 3: 'a' is mapped twice"),
])
def test_a_bad_mapping_file_is_refused_naming_the_line(tmp_path, text, expected):
    path = tmp_path / "ids.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=expected):
        intake.read_mapping(path)


def test_the_cli_refuses_a_bad_mapping_file_before_grading(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    path.write_text("lms_name\nx\n")
    with pytest.raises(SystemExit) as exit_status:
        main(["grade", UNIT, "--ids", str(path)])
    assert exit_status.value.code == 2
    assert "expected the columns lms_name,student_id" in capsys.readouterr().err


def test_the_cli_passes_the_mapping_and_all_to_grade(tmp_path, monkeypatch, capsys):
    import autograder.grading
    from autograder.results import GradeReport

    calls = []

    def stand_in(*args, **kwargs):
        calls.append(kwargs)
        return GradeReport(UNIT, [], tmp_path / "grades.csv")

    monkeypatch.setattr(autograder.grading, "grade", stand_in)
    path = tmp_path / "ids.csv"
    path.write_text("lms_name,student_id\nJane Doe_4711,jdoe\n")
    assert main(["grade", UNIT, "--submissions", str(tmp_path), "--ids", str(path), "--all"]) == 0
    assert calls[0]["id_mapping"] == {"Jane Doe_4711": "jdoe"} and calls[0]["all_submitted"]
    assert f"{UNIT}: no submissions found" in capsys.readouterr().out


def test_the_roster_puts_names_in_the_gradebook(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.settings import course_config

    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,first_name,last_name,email\n"
                      "jdoe,Jane,Doe,jane@uni.edu\nZoë Martin,Zoë,Martin,\n", encoding="utf-8")
    assert intake.import_roster(roster, tmp_path) == 2
    roster.write_text("student_id,first_name,last_name,email\njdoe,Janet,Doe,jane@uni.edu\n")
    assert intake.import_roster(roster, tmp_path) == 1  # a second import updates
    directory = course_config(work_dir=tmp_path).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        jane, zoe = gradebook.find_student("jdoe"), gradebook.find_student("Zoë Martin")
        assert (jane.first_name, jane.last_name, jane.email) == ("Janet", "Doe", "jane@uni.edu")
        assert (zoe.first_name, zoe.last_name, zoe.email) == ("Zoë", "Martin", None)


def test_a_bad_roster_imports_nothing(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,first_name,last_name,email\nok,A,B,\nbad/id,C,D,\n")
    with pytest.raises(ValueError, match="line 3"):
        intake.import_roster(roster, tmp_path)
    assert not (tmp_path / "gradebook.db").exists()


def test_roster_import_command(monkeypatch, tmp_path, capsys):
    imported = []
    monkeypatch.setattr(intake, "import_roster", lambda path, work_dir: imported.append(path) or 3)
    assert main(["roster", "import", str(tmp_path / "roster.csv")]) == 0
    assert imported == [tmp_path / "roster.csv"]
    assert capsys.readouterr().out == "3 students in the gradebook\n"


def test_the_source_notebooks_metadata_identifies_each_unit():
    """The intake tells units apart: no unit's source shares most grade ids with another's."""
    units = sorted(path.name for path in (REPO / "solutions").iterdir() if path.is_dir())
    ids = {unit: intake.source_ids(unit, REPO) for unit in units}
    for unit in units:
        for other in units:
            if other != unit:
                assert not len(ids[other] & ids[unit]) > len(ids[other] - ids[unit]), (unit, other)
    assert json.loads(SOURCE.read_text())["cells"]  # the fixture notebook is a real one
