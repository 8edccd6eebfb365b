"""``python -m ops.actions_server``: the rasa-sdk action server with ops installed.

The same server as ``python -m rasa_sdk --actions actions`` plus JSON masked logs and
``/metrics``. Binds to ``SANIC_HOST`` (default 127.0.0.1: the action server is never
reachable from outside; in a cluster set it to the pod address behind a NetworkPolicy)
on ``ACTIONS_PORT`` (default 5055).
"""

from __future__ import annotations

import os

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app

import ops


def main() -> None:
    app = create_app("actions", cors_origins=None)
    ops.install(app, "actions")
    app.run(
        os.environ.get("SANIC_HOST", "127.0.0.1"),
        int(os.environ.get("ACTIONS_PORT", "5055")),
        workers=utils.number_of_sanic_workers(),
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
