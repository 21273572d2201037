"""The hidden tests' helpers under their former name; they now live in ``autograder.hidden_tests``.

Kept because an nbgrader gradebook stores the hidden test cells it was generated with, and
``nbgrader autograde`` runs those stored copies: an assignment generated before the rename still
says ``from autograder.checks import grade``.
"""
from .hidden_tests import GradingError, compare, grade, student_nnlib  # noqa: F401
