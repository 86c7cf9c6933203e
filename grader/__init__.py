"""Hypatia's autograder: `python3 -m grader --lab N`. See docs/grading.md."""
