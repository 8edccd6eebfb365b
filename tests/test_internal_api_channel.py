"""InternalApi needs only the small Channel protocol (connectors.internal.Channel), not the
whole WhatsAppInput: a minimal stand-in with a real store and the real template registry
sends a department's notice from its own number, exactly once per key, and schedules an
erasure."""

import time

from connectors.graph import SendResult
from connectors.handoffs import HandoffDesk
from connectors.internal import InternalApi
from connectors.store import ChannelStore
from service_catalogue.templates import load_templates

CITIZEN = "919810004401"


class Numbers:
    clock = staticmethod(time.time)  # the handoff desk's clock

    def department_number(self, department):
        return {"djb": "100005"}.get(department)


class MinimalChannel:
    def __init__(self, tmp_path):
        self.store = ChannelStore(f"sqlite:///{tmp_path / 'wa.db'}")
        self.settings = Numbers()
        self.templates = load_templates()
        self.sent = []
        self.erased = []

    async def send_template(self, number, wa_id, template, language, parameters, max_retries=None):
        self.sent.append((number, wa_id, template.name, language, parameters, max_retries))
        return SendResult(True, f"wamid.{len(self.sent)}"), "template"

    def schedule_erasure(self, wa_id):
        self.erased.append(wa_id)


NOTICE = {
    "key": "b-1",
    "to": CITIZEN,
    "department": "djb",
    "purpose": "broadcast",
    "template": "department_notice",
    "language": "hi",
    "parameters": ["Delhi Jal Board", "Water supply is off on Sunday 10:00-14:00."],
}


async def test_internal_api_runs_on_a_minimal_channel(tmp_path):
    channel = MinimalChannel(tmp_path)
    api = InternalApi(channel, HandoffDesk(channel))
    answer = {"message_id": "wamid.1", "mode": "template", "phone_number_id": "100005"}
    assert await api.notify(NOTICE) == (200, answer)
    assert await api.notify(NOTICE) == (200, answer)  # the same key is sent once
    assert channel.sent == [("100005", CITIZEN, "department_notice", "hi", NOTICE["parameters"], 0)]
    assert await api.erase({"wa_id": CITIZEN}) == (202, {"status": "scheduled"})
    assert channel.erased == [CITIZEN]
