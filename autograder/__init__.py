"""Autograder for the course (see autograder/README.md)."""
