"""Which profile a process runs in: ``DELHI_SEWA_PROFILE=production`` (the deployment
files set it) or the embedded local profile of `make run` and the tests (unset).

In production a process refuses to start on settings that are only good for a local run
(no action-server token, the emulator's phone numbers), instead of running with them.
"""

from __future__ import annotations

import os

VARIABLE = "DELHI_SEWA_PROFILE"


def production() -> bool:
    return os.environ.get(VARIABLE, "").strip().lower() == "production"
