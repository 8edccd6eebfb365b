"""The department dashboard: officers, supervisors, CSC operators and administrators.

``python -m dashboard`` runs it (settings: :mod:`dashboard.config`); accounts are
managed with ``python -m dashboard.users``.
"""
