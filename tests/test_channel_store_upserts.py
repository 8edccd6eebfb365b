"""Delivery statuses and the 24-hour window are one upsert each (connectors/store.py), on
SQLite and on PostgreSQL alike: a status never goes back (Meta delivers them out of
order), and an older message never shortens the citizen's window."""

import pytest
import sqlalchemy as sa

from connectors.store import ChannelStore
from ops import migrate
from tests.support.services import private_postgres

CITIZEN, NUMBER = "919800000077", "100001"
RANKS = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@pytest.fixture(scope="module")
def postgres():
    with private_postgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return ChannelStore(f"sqlite:///{tmp_path}/channel.db")
    url = request.getfixturevalue("postgres").create_database(f"channel_{tmp_path.name[-8:]}")
    engine = sa.create_engine(url)
    migrate.upgrade("channel", engine)  # production migrates in a step of its own
    engine.dispose()
    return ChannelStore(url)


def test_a_status_moves_only_forward(store):
    moves = []
    for status in ("sent", "read", "delivered", "sent"):  # as Meta may deliver them
        moves.append(store.record_status("wamid.1", CITIZEN, NUMBER, status, RANKS[status], None))
    assert moves == [True, True, False, False]
    assert store.status_of("wamid.1") == "read"
    assert store.record_status("wamid.1", CITIZEN, NUMBER, "failed", 4, 131047)
    assert store.status_of("wamid.1") == "failed"
    # a message the channel recorded as accepted, then its statuses
    store.record_sent("wamid.2", CITIZEN, NUMBER)
    assert store.status_of("wamid.2") == "accepted"
    assert store.record_status("wamid.2", CITIZEN, NUMBER, "delivered", 2, None)
    assert store.statuses_of(["wamid.1", "wamid.2"]) == {
        "wamid.1": "failed",
        "wamid.2": "delivered",
    }


def test_the_window_follows_the_newest_message_only(store):
    assert store.last_inbound_at(CITIZEN, NUMBER) is None
    store.touch_contact(CITIZEN, NUMBER, 1_700_000_100)
    store.touch_contact(CITIZEN, NUMBER, 1_700_000_000)  # an older message, delivered late
    assert store.last_inbound_at(CITIZEN, NUMBER) == 1_700_000_100
    store.touch_contact(CITIZEN, NUMBER, 1_700_000_200)
    assert store.last_inbound_at(CITIZEN, NUMBER) == 1_700_000_200
    store.touch_contact(CITIZEN, "100002", 1_700_000_050)  # the same citizen, another number
    assert store.last_inbound_at(CITIZEN, "100002") == 1_700_000_050
    assert store.last_inbound_at(CITIZEN, NUMBER) == 1_700_000_200
