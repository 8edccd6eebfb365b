"""The project's own implementation of the backends contract (docs/backends-api.md).

One sanic service standing in for e-District, a Razorpay-like payment gateway (with a
hosted sandbox checkout page) and a PGMS-like grievance system, on SQLAlchemy (SQLite by
default, any SQLAlchemy URL through ``BACKENDS_DB_URL``).

    python -m backends            # needs the secrets listed in backends/config.py

Modules: :mod:`backends.config` (every setting), :mod:`backends.db` (tables, sessions,
ids, events), :mod:`backends.web` (errors, auth, idempotency, input checks),
:mod:`backends.edistrict`, :mod:`backends.payments`, :mod:`backends.grievances`,
:mod:`backends.certificates`, :mod:`backends.openapi` and :mod:`backends.app`
(``create_app``).
"""
