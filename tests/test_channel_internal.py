"""The channel's internal API against the WhatsApp emulator (which approves exactly the
template registry, as Meta would): notifications inside and outside the 24-hour window,
idempotency, WhatsApp outages, number choice, statuses and the channel side of erasure.

The channel runs in this process with its clock under the test's control; the emulator
runs as a child process and its clock is moved by the same amount.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from connectors.graph import GraphClient
from connectors.handoffs import HandoffDesk
from connectors.internal import ApiError, InternalApi
from connectors.whatsapp import Settings, WhatsAppInput
from scripts.phone_numbers import configured_numbers, emulator_phone_numbers
from service_catalogue import load as load_catalogue
from tests.support.channel import INTERNAL_TOKEN
from tests.support.emulator import (
    APP_SECRET,
    TOKEN,
    free_port,
    running_emulator,
    wait_until,
    webhook_receiver,
)

CITIZEN = "919810004401"
MAIN, TRANSPORT = "100001", "100002"
DAY = 24 * 3600


@pytest.fixture(scope="module")
def receiver():
    with webhook_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def wa(receiver, tmp_path_factory):
    with running_emulator(
        tmp_path_factory.mktemp("emulator"),
        WEBHOOK_URL=receiver.url,
        PHONE_NUMBERS=emulator_phone_numbers(),
    ) as running:
        yield running


class Clock:
    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.time() + self.offset


class Rasa:
    def __init__(self):
        self.turns = []

    async def __call__(self, message):
        self.turns.append(message)


class Harness:
    """The channel plus what feeds it: the emulator's webhooks and a stand-in for Rasa."""

    def __init__(self, channel, wa, receiver, clock):
        self.channel, self.wa, self.receiver, self.clock = channel, wa, receiver, clock
        self.api = InternalApi(channel, HandoffDesk(channel))
        self.rasa = Rasa()
        self.fed = 0
        channel.blueprint(self.rasa)  # as Rasa does: the channel learns its handler

    async def pump(self):
        """Hands every webhook the emulator sent so far to the channel, then lets it work."""
        for received in self.receiver.accepted()[self.fed :]:
            await self.channel.receive(received.body, received.headers, self.rasa)
            self.fed += 1
        for _ in range(100):
            if all(task.done() for task in self.channel._workers.values()):
                return
            await _sleep(0.02)

    async def citizen_writes(self, text=None, to=MAIN, **fields):
        message_id = self.wa.citizen_says(text, wa_id=CITIZEN, to=to, **fields)
        wait_until(
            lambda: any(
                m["id"] == message_id for r in self.receiver.accepted() for m in r.messages()
            )
        )
        await self.pump()

    def move_clock(self, seconds):
        self.clock.offset += seconds
        self.wa.configure(clock_offset_seconds=self.clock.offset)

    def outbound(self, number=MAIN):
        return [
            m
            for m in self.wa.conversation(wa_id=CITIZEN, phone_number_id=number)
            if m["direction"] == "out"
        ]

    async def call(self, method, body=None):
        try:
            return await getattr(self.api, method)(body)
        except ApiError as error:
            return error.status, error.body


async def _sleep(seconds):
    await asyncio.sleep(seconds)


@pytest.fixture
def harness(wa, receiver, tmp_path):
    wa.reset()
    receiver.clear()
    clock = Clock()
    settings = Settings(
        app_secret=APP_SECRET,
        verify_token="verify",
        access_token=TOKEN,
        graph_url=wa.graph_url,
        db_url=f"sqlite:///{tmp_path / 'wa.db'}",
        media_dir=tmp_path / "media",
        numbers=configured_numbers(),
        reorder_window_seconds=0.01,
        internal_token=INTERNAL_TOKEN,
        clock=clock,
    )
    channel = WhatsAppInput(settings)
    channel.graph = GraphClient(wa.graph_url, TOKEN, max_retries=0)
    return Harness(channel, wa, receiver, clock)


def approved(key="n-1", language="en", **changes):
    return {
        "key": key,
        "to": CITIZEN,
        "department": "revenue",
        "purpose": "status",
        "template": "application_approved",
        "language": language,
        "parameters": ["Income certificate", "APP-2026-000042"],
        **changes,
    }


def test_every_department_has_its_own_number():
    numbers = configured_numbers()
    assert sorted(numbers.values()) == sorted(["", *load_catalogue().departments])
    assert len(set(numbers)) == len(numbers)


async def test_inside_the_window_the_text_goes_with_reply_buttons_that_work(harness):
    await harness.citizen_writes("hello")
    status, answer = await harness.call("notify", approved())
    assert status == 200
    assert answer["mode"] == "text" and answer["phone_number_id"] == MAIN
    [message] = harness.outbound()
    assert message["id"] == answer["message_id"]
    interactive = message["payload"]["interactive"]
    assert interactive["body"]["text"] == (
        "Your application APP-2026-000042 (Income certificate) has been approved."
    )
    [button] = interactive["action"]["buttons"]
    assert button["reply"]["title"] == "Check status"
    # the citizen taps it: the dialogue gets the payload, vouched for by the channel
    await harness.citizen_writes(type="button_reply", reply_id=button["reply"]["id"])
    tap = harness.rasa.turns[-1]
    assert tap.text == '/check_status{"application_id": "APP-2026-000042"}'
    assert tap.metadata["trusted_payload"] is True


async def test_outside_the_window_the_registered_template_goes_in_the_citizens_language(
    harness,
):
    await harness.citizen_writes("नमस्ते")
    harness.move_clock(DAY + 3600)
    status, answer = await harness.call(
        "notify",
        approved(
            template="certificate_issued",
            language="hi",
            parameters={
                "service": "आय प्रमाणपत्र",
                "application_id": "APP-2026-000042",
                "certificate_number": "CERT-77",
            },
        ),
    )
    assert (status, answer["mode"]) == (200, "template")
    [message] = harness.outbound()
    template = message["payload"]["template"]
    assert template["name"] == "certificate_issued" and template["language"]["code"] == "hi"
    assert [p["text"] for p in template["components"][0]["parameters"]] == [
        "आय प्रमाणपत्र",
        "APP-2026-000042",
        "CERT-77",
    ]
    assert message["rendered"]["body"] == (
        "आपका प्रमाणपत्र तैयार है: आय प्रमाणपत्र, आवेदन APP-2026-000042, प्रमाणपत्र संख्या CERT-77।"
    )
    [button] = message["rendered"]["buttons"]
    assert button["text"] == "प्रमाणपत्र लें"
    # the template's quick reply comes back as a `button` message with our id
    await harness.citizen_writes(type="button", reply_id=button["payload"])
    assert harness.rasa.turns[-1].text == (
        '/download_certificate{"application_id": "APP-2026-000042"}'
    )


async def test_the_same_key_twice_sends_once_and_answers_the_same(harness):
    await harness.citizen_writes("hi")
    first = await harness.call("notify", approved(key="outbox-7"))
    again = await harness.call("notify", approved(key="outbox-7"))
    assert first == again and first[0] == 200
    assert len(harness.outbound()) == 1
    other = await harness.call("notify", approved(key="outbox-8"))
    assert other[1]["message_id"] != first[1]["message_id"]
    assert len(harness.outbound()) == 2


async def test_whatsapp_down_or_throttling_is_503_then_the_retry_is_sent(harness):
    await harness.citizen_writes("hi")
    working = harness.channel.graph
    harness.channel.graph = GraphClient(f"http://127.0.0.1:{free_port()}/v21.0", TOKEN, 80, 2, 0)
    status, body = await harness.call("notify", approved(key="k-down"))
    assert status == 503 and body["error"] == "whatsapp_unavailable" and body["retry_after"] > 0
    harness.channel.graph = working
    harness.wa.configure(throttle_rate=1.0)
    status, body = await harness.call("notify", approved(key="k-down"))
    assert status == 503 and body["error"] == "whatsapp_unavailable"
    harness.wa.configure(throttle_rate=0.0)
    assert harness.outbound() == []
    status, body = await harness.call("notify", approved(key="k-down"))
    assert status == 200
    assert [m["id"] for m in harness.outbound()] == [body["message_id"]]


async def test_unregistered_templates_and_wrong_counts_never_reach_whatsapp(harness):
    await harness.citizen_writes("hi")
    status, body = await harness.call("notify", approved(template="application_lost"))
    assert (status, body["error"]) == (422, "unknown_template")
    status, body = await harness.call("notify", approved(parameters=["only the service"]))
    assert (status, body["error"]) == (422, "parameter_count")
    # a bot reply path handing the channel a bad template is refused the same way
    bad = {
        "type": "template",
        "template": {"name": "made_up", "language": {"code": "en"}, "components": []},
    }
    assert await harness.channel.deliver(MAIN, CITIZEN, bad) is None
    assert harness.outbound() == []
    assert harness.wa.stats()["graph_errors"] == {}


async def test_numbers_broadcast_from_the_department_status_from_where_the_citizen_wrote(
    harness,
):
    await harness.citizen_writes("hello transport", to=TRANSPORT)
    status, answer = await harness.call("notify", approved(key="s-1"))
    assert answer["phone_number_id"] == TRANSPORT and answer["mode"] == "text"
    broadcast = approved(
        key="b-1",
        department="djb",
        purpose="broadcast",
        template="department_notice",
        parameters=["Delhi Jal Board", "Water supply is off on Sunday 10:00-14:00."],
    )
    status, answer = await harness.call("notify", broadcast)
    # the Jal Board's own number: the citizen never wrote to it, so a template
    assert (status, answer["phone_number_id"], answer["mode"]) == (200, "100005", "template")
    status, body = await harness.call(
        "notify", {**broadcast, "key": "b-2", "department": "parliament"}
    )
    assert (status, body["error"]) == (422, "no_number_for_department")
    status, body = await harness.call("notify", approved(key="bad-to", to="not-a-number"))
    assert (status, body["error"]) == (422, "invalid_recipient")


async def test_statuses_follow_whatsapps_reports(harness):
    await harness.citizen_writes("hi")
    _, answer = await harness.call("notify", approved(key="st-1"))
    message_id = answer["message_id"]
    harness.receiver.wait_for_statuses(message_id, {"sent", "delivered", "read"})
    await harness.pump()
    status, body = await harness.call("statuses", {"ids": [message_id, "wamid.unknown"]})
    assert (status, body) == (200, {"statuses": {message_id: "read", "wamid.unknown": None}})
    status, body = await harness.call("statuses", {"ids": ["x"] * 501})
    assert status == 400


async def test_channel_side_of_erasure(harness):
    await harness.citizen_writes("my name is Asha, Aadhaar 2345 6789 0123")
    store = harness.channel.store
    [row] = [r for r in harness.receiver.accepted()[0].messages()]
    assert "Asha" in store.inbox_body(row["id"])
    _, answer = await harness.call("notify", approved(key="e-1"))
    status, body = await harness.call("erase", {"wa_id": CITIZEN})
    assert (status, body) == (202, {"status": "scheduled"})
    for _ in range(100):
        if store.erasure_state(CITIZEN) == "done":
            break
        await _sleep(0.05)
    assert json.loads(store.inbox_body(row["id"])) == {}
    assert store.last_inbound_at(CITIZEN, MAIN) is None
    assert store.payload_for(CITIZEN, "anything") is None
    assert (await harness.call("erasure", CITIZEN)) == (200, {"status": "done"})
    assert (await harness.call("erasure", "919999999999")) == (200, {"status": "none"})
    # the same webhook delivered again is still recognised and not processed twice
    turns = len(harness.rasa.turns)
    harness.fed = 0
    await harness.pump()
    assert len(harness.rasa.turns) == turns


async def test_erasure_waits_for_the_citizens_turn_in_progress(harness):
    class SlowRasa(Rasa):
        def __init__(self):
            super().__init__()
            self.finish = asyncio.Event()

        async def __call__(self, message):
            self.turns.append(message)
            await self.finish.wait()  # e.g. the action calling POST /erase is running

    slow = harness.rasa = SlowRasa()
    message_id = harness.wa.citizen_says("delete my data", wa_id=CITIZEN)
    # by the parsed id: the webhook's JSON escapes the "/" that wamids may contain
    [received] = wait_until(
        lambda: [
            r
            for r in harness.receiver.accepted()
            if any(m["id"] == message_id for m in r.messages())
        ]
    )
    await harness.channel.receive(received.body, received.headers, slow)
    while not slow.turns:
        await _sleep(0.01)
    assert (await harness.call("erase", {"wa_id": CITIZEN}))[0] == 202
    await _sleep(0.3)
    store = harness.channel.store
    assert store.erasure_state(CITIZEN) == "pending"
    assert "delete my data" in store.inbox_body(message_id)
    slow.finish.set()
    for _ in range(100):
        if store.erasure_state(CITIZEN) == "done":
            break
        await _sleep(0.05)
    assert store.erasure_state(CITIZEN) == "done"
    assert json.loads(store.inbox_body(message_id)) == {}
