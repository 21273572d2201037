"""The tests every unit's simulated class shares: a mutation test of the grader, by real nbgrader.

A unit's ``test_grading_*.py`` declares a subclass of ``SimulatedClass`` holding only its table:
its tests in notebook order and its points, plausible mistakes (each must lose the points of its own
test and of no other, with a phrase of the right message in the test's message and on the feedback
page) and correct alternatives (each keeps full marks). The class is graded once, with the
reference (full marks) and the untouched release (zero, "not implemented yet" everywhere); the
tests below read the result, and no submitted file may change.

A mistake is ``(rewrite, test, phrase)``: ``rewrite`` is ``(module, qualname, body)`` or a list of
them (``simulated_class.rewrite_region``), ``test`` the test that must lose points, ``phrase`` a
string or a list of strings. ``mistakes`` maps a student to one mistake, or to ``{name: mistake}``:
several mistakes, each in a function of its own (the probes isolate functions, so they do not mix),
which keeps the class small.
"""
import html

import pytest

from simulated_class import grade_class, make_submission


def grades(test):
    """Marks a test that reads the graded class: slow, and it runs student code in the sandbox."""
    return pytest.mark.slow(pytest.mark.sandbox(test))


def submission(**edits):
    """A student's builder: ``make_submission(release, folder, **edits)``."""
    return lambda release, folder: make_submission(release, folder, **edits)


def mistakes_by_student(table):
    """``{student: {mistake: (rewrites, test, phrases)}}`` with lists of rewrites and tuples of
    phrases, from a table of mistakes in either form (a one-mistake student's mistake bears the
    student's name)."""
    students = {}
    for student, entry in table.items():
        named = entry if isinstance(entry, dict) else {student: entry}
        students[student] = {
            mistake: ([rewrites] if isinstance(rewrites[0], str) else list(rewrites), test,
                      (phrases,) if isinstance(phrases, str) else tuple(phrases))
            for mistake, (rewrites, test, phrases) in named.items()}
    return students


def lost(result):
    """``{test: message}`` of the tests that lost points."""
    return {test.name: test.message for test in result.tests if test.score < test.max_score}


def feedback_page(graded, unit, student):
    """The student's summary page as they read it (the HTML escapes quotes and ``>``)."""
    return html.unescape((graded["work"] / "feedback" / student / unit / "summary.html").read_text())


class SimulatedClass:
    """Subclass it as ``TestUnitNN`` and set the table; every test below then runs for the unit."""

    unit = ""            # the unit id, e.g. "03_forward_pass"
    tests = ()           # its test cells, in notebook order
    max_score = 0        # their points
    mistakes = {}        # student: mistake, or student: {name: mistake} (see the module docstring)
    alternatives = {}    # student: [rewrite, ...], correct ways to write the functions
    also_lost = {}       # student: tests their mistake costs besides its own, each a known knock-on
    mistake_count = None  # when set, the table must hold that many mistakes (none lost by an edit)
    cell_timeout = 10    # seconds a notebook cell may run
    jobs = 2             # submissions graded at the same time

    @classmethod
    def students(cls):
        """``{name: build(release, folder)}``: every submission of the class (a unit with
        scenarios of its own adds to it)."""
        students = {"reference": submission(), "untouched_release": submission(reference=False)}
        for student, mistakes in mistakes_by_student(cls.mistakes).items():
            rewrites = [rewrite for found, _, _ in mistakes.values() for rewrite in found]
            students[student] = submission(regions=rewrites)
        for student, rewrites in cls.alternatives.items():
            students[student] = submission(regions=rewrites)
        return students

    def pytest_generate_tests(self, metafunc):
        table = mistakes_by_student(self.mistakes)
        if "mistake" in metafunc.fixturenames:
            metafunc.parametrize("student, mistake", [(student, mistake) for student, mistakes
                                                      in table.items() for mistake in mistakes])
        elif "student" in metafunc.fixturenames:
            metafunc.parametrize("student", sorted(table))
        if "alternative" in metafunc.fixturenames:
            metafunc.parametrize("alternative", sorted(self.alternatives))

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, tmp_path_factory):
        return grade_class(cls.unit, tmp_path_factory.mktemp(f"unit{cls.unit[:2]}"), cls.students(),
                           cell_timeout=cls.cell_timeout, jobs=cls.jobs)

    def test_the_table_names_each_student_once_and_each_function_once_per_student(self):
        table = mistakes_by_student(self.mistakes)
        names = ["reference", "untouched_release", *table, *self.alternatives]
        assert len(names) == len(set(names)), "a student of the table would replace another"
        for student, mistakes in table.items():  # two mistakes in one function would mix
            functions = [(module, qualname) for rewrites, _, _ in mistakes.values()
                         for module, qualname, _ in rewrites]
            assert len(functions) == len(set(functions)), student
        assert set(self.also_lost) <= set(table), "knock-ons of a student who is not in the table"
        if self.mistake_count is not None:
            assert sum(len(mistakes) for mistakes in table.values()) == self.mistake_count

    @grades
    def test_reference_full_marks_and_untouched_release_zero(self, graded):
        reference, untouched = graded["students"]["reference"], graded["students"]["untouched_release"]
        assert [test.name for test in reference.tests] == list(self.tests)
        assert reference.score == reference.max_score == self.max_score, lost(reference)
        assert [test.name for test in untouched.tests] == list(self.tests)
        assert all(test.score == 0 for test in untouched.tests), lost(untouched)
        assert all("not implemented yet" in test.message for test in untouched.tests), lost(untouched)

    @grades
    def test_mistakes_lose_exactly_their_own_tests(self, graded, student):
        expected = {test for _, test, _ in mistakes_by_student(self.mistakes)[student].values()}
        expected |= set(self.also_lost.get(student, ()))
        assert set(lost(graded["students"][student])) == expected, lost(graded["students"][student])

    @grades
    def test_each_mistake_is_named_in_the_message_and_the_feedback(self, graded, student, mistake):
        _, test, phrases = mistakes_by_student(self.mistakes)[student][mistake]
        message, page = lost(graded["students"][student])[test], feedback_page(graded, self.unit, student)
        for phrase in phrases:
            assert phrase in message, message
            assert phrase in page

    @grades
    def test_correct_alternatives_keep_full_marks(self, graded, alternative):
        result = graded["students"][alternative]
        assert result.score == result.max_score == self.max_score, lost(result)

    @grades
    def test_no_submitted_file_is_modified_or_lost(self, graded):
        assert graded["after"] == graded["before"]
