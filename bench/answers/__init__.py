"""Evaluation of the free-question answerer: ``make bench-answers`` (see __main__.py)."""
