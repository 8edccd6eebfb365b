"""Officers' handoffs in the channel (connectors/handoffs.py) against the WhatsApp
emulator: who the citizen is told is answering and from which number, the timeout, the
citizen's way back to the assistant, supervisors' release and reassignment.

The channel runs in this process with a stand-in for Rasa's agent built from Rasa's own
in-memory tracker and lock stores; time is never waited for: the timeout is checked
"as of" a chosen moment.
"""

from __future__ import annotations

import types

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
    UserUttered,
)

from connectors import conversation
from connectors.handoffs import HandoffDesk, wants_the_assistant
from connectors.internal import InternalApi
from tests.test_channel_internal import (  # noqa: F401 - fixtures
    CITIZEN,
    MAIN,
    Harness,
    harness,
    receiver,
    wa,
)

SOCIAL_WELFARE = "100006"
TIMEOUT = 30 * 60
MEENA = {"officer_id": "meena", "officer_name": "Meena Rao", "department": "social_welfare"}
KIRAN = {"officer_id": "kiran", "officer_name": "Kiran Das", "department": "social_welfare"}
HARI = {"officer_id": "hari", "officer_name": "Hari Om", "department": ""}


class Agent:
    """What the channel uses of Rasa's agent, with Rasa's own stores."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.tracker_store = InMemoryTrackerStore(domain)
        self.lock_store = InMemoryLockStore()
        self.processor = self

    def is_ready(self) -> bool:
        return True

    async def log_message(self, message, should_save_tracker=True):
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, metadata=message.metadata), self.domain)
        await self.tracker_store.save(tracker)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load("domain.yml")


@pytest.fixture
def desk(harness: Harness, domain: Domain) -> HandoffDesk:  # noqa: F811 - the fixture
    """The channel's handoff desk (``desk.channel``), its agent a stand-in."""
    agent = Agent(domain)
    harness.channel.app = types.SimpleNamespace(ctx=types.SimpleNamespace(agent=agent))
    found = HandoffDesk(harness.channel, timeout_seconds=TIMEOUT)
    harness.api = InternalApi(harness.channel, found)
    found.harness = harness  # type: ignore[attr-defined]
    return found


def text_of(message: dict) -> str:
    payload = message["payload"]
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    if payload["type"] == "interactive":
        return str(payload["interactive"]["body"]["text"])
    return str((message.get("rendered") or {}).get("body") or "")


def texts(on: Harness, number: str = MAIN) -> list[str]:
    return [text_of(m) for m in on.outbound(number)]


async def hindi_citizen(desk: HandoffDesk) -> None:
    """A citizen who wrote to the main number in Hindi."""
    await desk.harness.citizen_writes("नमस्ते")  # type: ignore[attr-defined]
    await conversation.append(desk.agent(), CITIZEN, [SlotSet("language", "hi")])


async def events(desk: HandoffDesk) -> list:
    tracker = await desk.agent().tracker_store.retrieve(CITIZEN)
    return list(tracker.events)


def take(holder: dict, action: str = "take", **extra) -> dict:
    return {"wa_id": CITIZEN, "action": action, **holder, **extra}


async def test_the_citizen_is_told_in_their_chat_who_answers_and_how_to_get_back(desk):
    h = desk.harness
    await hindi_citizen(desk)
    assert await h.call("handoff", take(MEENA)) == (200, {"status": "taken"})
    # from the number the citizen wrote to (before: Social Welfare's, a new chat on a
    # phone), naming the conversation's department and the way back to the assistant
    assert texts(h) == [
        "अब आप समाज कल्याण विभाग के अधिकारी Meena Rao से बात कर रहे हैं। वे इसी चैट में जवाब "
        "देंगे। दिल्ली सेवा सहायक पर लौटने के लिए कभी भी *सहायक* लिखें।"
    ]
    assert texts(h, SOCIAL_WELFARE) == []
    [paused] = [e for e in await events(desk) if isinstance(e, ConversationPaused)]
    assert paused.metadata == MEENA  # the dashboard's feed learns who holds it

    status, sent = await h.call("send", {"wa_id": CITIZEN, "text": "Jaanch jaari hai.", **MEENA})
    assert status == 200, sent
    assert texts(h)[-1] == "समाज कल्याण विभाग के अधिकारी का संदेश: Jaanch jaari hai."

    # the citizen's messages go to the officer, not to the assistant
    turns = len(h.rasa.turns)
    await h.citizen_writes("ji dhanyavaad")
    assert len(h.rasa.turns) == turns


async def test_the_helpdesk_answers_what_no_department_owns(desk):
    h = desk.harness
    await h.citizen_writes("I want to talk to a person")
    await conversation.append(desk.agent(), CITIZEN, [SlotSet("language", "en")])
    assert (await h.call("handoff", take(HARI)))[0] == 200
    await h.call("send", {"wa_id": CITIZEN, "text": "How can I help?", **HARI})
    assert texts(h) == [
        "You are now talking to Hari Om of the Delhi Sewa helpdesk. They will reply in this "
        "chat. To go back to the Delhi Sewa assistant at any time, type *assistant*.",
        "Message from the Delhi Sewa helpdesk: How can I help?",
    ]


async def test_a_silent_handoff_ends_at_the_timeout_and_the_citizen_is_told(desk):
    h = desk.harness
    await hindi_citizen(desk)
    await h.call("handoff", take(MEENA))
    since = h.channel.store.handoff(CITIZEN)["since"]
    assert await desk.expire(since + TIMEOUT - 1) == []
    # the officer wrote 10 minutes in: the timeout counts from her last message
    reply = BotUttered("Main dekh rahi hoon.", metadata=MEENA, timestamp=since + 600)
    await conversation.append(desk.agent(), CITIZEN, [reply])
    assert (await h.call("expire", {"as_of": since + TIMEOUT + 1})) == (200, {"expired": []})
    assert (await h.call("expire", {"as_of": since + 600 + TIMEOUT + 1})) == (
        200,
        {"expired": [CITIZEN]},
    )
    assert h.channel.store.handoff(CITIZEN) is None
    assert texts(h)[-1] == (
        "अधिकारी ने काफ़ी देर से जवाब नहीं दिया, इसलिए अब दिल्ली सेवा सहायक फिर से आपकी मदद "
        'करेगा। अधिकारी से दोबारा बात करने के लिए "अधिकारी से बात करनी है" लिखें।'
    )
    resumed = [e for e in await events(desk) if isinstance(e, ConversationResumed)]
    assert [e.metadata["reason"] for e in resumed] == ["expired"]
    # the assistant answers again
    await h.citizen_writes("आय प्रमाण पत्र")
    assert h.rasa.turns[-1].text == "आय प्रमाण पत्र"
    assert (await h.call("expire", {"as_of": "soon"}))[0] == 400


async def test_the_citizen_can_ask_for_the_assistant_back(desk):
    h = desk.harness
    await hindi_citizen(desk)
    await h.call("handoff", take(MEENA))
    await h.citizen_writes("सहायक जी के बारे में पूछना है")  # not only the word: stays
    await desk.sweep()
    assert h.channel.store.handoff(CITIZEN) is not None
    await h.citizen_writes("सहायक")
    await desk.sweep()
    assert h.channel.store.handoff(CITIZEN) is None
    assert texts(h)[-1] == (
        "आप फिर से दिल्ली सेवा सहायक से बात कर रहे हैं; अधिकारी को बता दिया गया है। "
        "बताइए, मैं आपकी क्या मदद करूँ?"
    )
    await h.citizen_writes("pension ka form")
    assert h.rasa.turns[-1].text == "pension ka form"


@pytest.mark.parametrize(
    "text, back",
    [
        ("assistant", True),
        ("Bot!", True),
        ("  सहायक ", True),
        ("Sahayak", True),
        ("back to the bot please", False),
        ("are you a bot", False),
        ("thank you", False),
    ],
)
def test_the_way_back_is_the_word_alone(text, back):
    assert wants_the_assistant(text) is back


async def test_a_supervisor_releases_or_reassigns_someone_elses_handoff(desk):
    h = desk.harness
    await hindi_citizen(desk)
    await h.call("handoff", take(MEENA))
    status, body = await h.call("handoff", take(KIRAN, "release"))
    assert (status, body["error"]) == (409, "taken_by_other")  # not without the override

    status, _ = await h.call("handoff", take(KIRAN, "reassign", by="sunita"))
    assert status == 200
    assert h.channel.store.handoff(CITIZEN)["officer_id"] == "kiran"
    assert "Kiran Das" in texts(h)[-1]
    refused = await h.call("send", {"wa_id": CITIZEN, "text": "hello", **MEENA})
    assert (refused[0], refused[1]["error"]) == (409, "not_in_handoff")
    assert (await h.call("send", {"wa_id": CITIZEN, "text": "Namaste", **KIRAN}))[0] == 200

    supervisor = {"officer_id": "sunita", "officer_name": "Sunita", "department": "social_welfare"}
    released = await h.call("handoff", take(supervisor, "release", override=True))
    assert released == (200, {"status": "released"})
    assert texts(h)[-1].startswith("अधिकारी ने बातचीत समाप्त कर दी है।")
    resumed = [e for e in await events(desk) if isinstance(e, ConversationResumed)]
    assert resumed[-1].metadata == {"reason": "supervisor", "officer_id": "kiran"}
    bad = await h.call("handoff", take(supervisor, "release", override=True, reason="x"))
    assert bad[0] == 400


async def test_two_processes_ending_the_same_handoff_tell_the_citizen_once(desk):
    h = desk.harness
    await hindi_citizen(desk)
    await h.call("handoff", take(MEENA))
    other = HandoffDesk(h.channel, timeout_seconds=TIMEOUT)
    since = h.channel.store.handoff(CITIZEN)["since"]
    first = await desk.expire(since + TIMEOUT + 1)
    second = await other.expire(since + TIMEOUT + 1)
    assert first == [CITIZEN] and second == []
    assert sum("देर से जवाब नहीं दिया" in t for t in texts(h)) == 1
