"""One client per backend (docs/backends-api.md); actions never build URLs.

>>> from actions.api import clients
>>> result = clients().edistrict.get_application(citizen_id, "APP-2026-000123")
>>> if not result.ok: ...  # result.error: "timeout", "not_found", ...
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from actions.api.base import ApiResult, BaseClient
from actions.api.channel import ChannelClient
from actions.api.citizens import CitizensClient
from actions.api.edistrict import EDistrictClient
from actions.api.grievance import FeedbackClient, GrievanceClient
from actions.api.payments import PaymentsClient

__all__ = [
    "ApiResult",
    "BaseClient",
    "ChannelClient",
    "CitizensClient",
    "Clients",
    "EDistrictClient",
    "FeedbackClient",
    "GrievanceClient",
    "PaymentsClient",
    "clients",
    "reset_clients",
]


@dataclass(frozen=True)
class Clients:
    """The process-wide clients: stateless apart from their connection pools."""

    edistrict: EDistrictClient
    payments: PaymentsClient
    grievance: GrievanceClient
    feedback: FeedbackClient
    citizens: CitizensClient
    channel: ChannelClient


_lock = threading.Lock()
_clients: Clients | None = None


def clients() -> Clients:
    """The shared clients, built from ``actions.config`` on first use."""
    global _clients
    if _clients is None:
        with _lock:
            if _clients is None:
                _clients = Clients(
                    edistrict=EDistrictClient.from_config(),
                    payments=PaymentsClient.from_config(),
                    grievance=GrievanceClient.from_config(),
                    feedback=FeedbackClient.from_config(),
                    citizens=CitizensClient.from_config(),
                    channel=ChannelClient.from_config(),
                )
    return _clients


def reset_clients() -> None:
    """Closes the shared clients; the next :func:`clients` call builds new ones."""
    global _clients
    with _lock:
        if _clients is not None:
            for client in vars(_clients).values():
                client.close()
        _clients = None
