"""WhatsApp Cloud API shapes (connectors.whatsapp_format): webhook parsing, text splitting
and outbound bodies, with payloads shaped as Meta's webhook reference documents them."""

from __future__ import annotations

import copy
import json
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.whatsapp_format import (
    MAX_TEXT,
    PAGE_PREFIX,
    STATUS_ORDER,
    Inbound,
    StatusUpdate,
    more_page_payloads,
    outbound_payloads,
    parse_webhook,
    split_text,
)

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY = "15550783881"
CITIZEN = "919876543210"
OTHER_CITIZEN = "918800112233"
TS = "1732350000"


def wamid(n: int) -> str:
    return f"wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhggQjRFQzU2RTk0OEY3{n:04d}QTg0RjRFMTcwAA=="


def message(kind: str, body: dict[str, Any], n: int = 1, sender: str = CITIZEN) -> dict[str, Any]:
    return {"from": sender, "id": wamid(n), "timestamp": TS, "type": kind, kind: body}


def value(
    messages: list[Any] | None = None,
    statuses: list[Any] | None = None,
    contacts: list[Any] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY, "phone_number_id": phone_number_id},
    }
    if messages is not None:
        out["contacts"] = (
            contacts
            if contacts is not None
            else [{"profile": {"name": "Sunita Devi"}, "wa_id": CITIZEN}]
        )
        out["messages"] = messages
    if statuses is not None:
        out["statuses"] = statuses
    return out


def envelope(*values: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": v, "field": "messages"} for v in values]}],
    }


def one(raw_message: dict[str, Any], **kwargs: Any) -> Inbound:
    inbound, statuses = parse_webhook(envelope(value([raw_message], **kwargs)))
    assert statuses == []
    assert len(inbound) == 1, inbound
    return inbound[0]


def status(state: str, n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": wamid(n),
        "status": state,
        "timestamp": TS,
        "recipient_id": CITIZEN,
        "conversation": {"id": "6ce5a1b2c3", "origin": {"type": "service"}},
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        **extra,
    }


@contextmanager
def no_parser_bugs() -> Iterator[list[logging.LogRecord]]:
    """Collects ERROR records of the module: its guard logs them only on its own bugs."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.ERROR)
    target = logging.getLogger("connectors.whatsapp_format")
    target.addHandler(handler)
    try:
        yield records
    finally:
        target.removeHandler(handler)
    assert not records, [r.getMessage() for r in records]


# =========================================================================== one type each


def test_text_message_with_profile_name() -> None:
    got = one(message("text", {"body": "I need an income certificate"}))
    assert got == Inbound(
        message_id=wamid(1),
        wa_id=CITIZEN,
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number=DISPLAY,
        timestamp=1732350000,
        kind="text",
        text="I need an income certificate",
        original_type="text",
        profile_name="Sunita Devi",
    )


def test_hindi_and_emoji_text_is_kept_and_nfc_normalised() -> None:
    # "ऩ" typed as न + nukta must arrive composed (NFC); emoji ZWJ sequences and the ZWJ
    # in Hindi conjuncts are format characters and must survive.
    body = "नमस्ते 🙏 मुझे आय प्रमाण पत्र चाहिए\nमेरा नाम न\u093c है 👨\u200d👩\u200d👧 क्\u200dष"
    got = one(message("text", {"body": body}))
    assert got.text == unicodedata.normalize("NFC", body)
    assert "\u0929" in got.text and "\u0928\u093c" not in got.text
    assert "👨\u200d👩\u200d👧" in got.text
    assert "\n" in got.text


def test_control_characters_are_dropped_but_newlines_kept() -> None:
    got = one(message("text", {"body": "  line one\r\nline\x00 two\x1b[31m\tred\x7f\ud800  "}))
    assert got.text == "line one\nline two[31mred"


def test_text_is_capped_at_4096() -> None:
    got = one(message("text", {"body": "क" * 10_000}))
    assert len(got.text) == MAX_TEXT == 4096


def test_interactive_button_reply() -> None:
    raw = message(
        "interactive", {"type": "button_reply", "button_reply": {"id": "b7", "title": "हाँ"}}
    )
    raw["context"] = {"from": PHONE_NUMBER_ID, "id": wamid(99)}
    got = one(raw)
    assert (got.kind, got.reply_id, got.text, got.original_type) == (
        "reply",
        "b7",
        "हाँ",
        "interactive",
    )
    assert got.context_id == wamid(99)


def test_interactive_list_reply() -> None:
    reply = {"id": "r3", "title": "Income certificate", "description": "आय प्रमाण पत्र"}
    got = one(message("interactive", {"type": "list_reply", "list_reply": reply}))
    assert (got.kind, got.reply_id, got.text) == ("reply", "r3", "Income certificate")


def test_template_quick_reply_button() -> None:
    raw = message("button", {"payload": "renew_yes", "text": "Yes, renew"})
    raw["context"] = {"from": DISPLAY, "id": wamid(42)}
    got = one(raw)
    assert (got.kind, got.reply_id, got.text, got.original_type) == (
        "reply",
        "renew_yes",
        "Yes, renew",
        "button",
    )
    assert got.context_id == wamid(42)


def test_flow_reply_is_unsupported() -> None:
    raw = message(
        "interactive",
        {
            "type": "nfm_reply",
            "nfm_reply": {"response_json": '{"flow_token": "x"}', "body": "Sent"},
        },
    )
    got = one(raw)
    assert (got.kind, got.original_type, got.reply_id) == ("unsupported", "interactive", None)


def test_image_with_caption() -> None:
    image = {
        "caption": "मेरा आधार",
        "mime_type": "image/jpeg",
        "sha256": "4RIf8uBDmOZwH7e9DbDzUJ/3pdOOjb6bAA3KP0/hvXc=",
        "id": "1013859600285441",
    }
    got = one(message("image", image))
    assert got.kind == "media" and got.text == "मेरा आधार"
    assert got.media == {
        "type": "image",
        "id": "1013859600285441",
        "mime_type": "image/jpeg",
        "sha256": "4RIf8uBDmOZwH7e9DbDzUJ/3pdOOjb6bAA3KP0/hvXc=",
        "caption": "मेरा आधार",
    }


def test_document_with_filename() -> None:
    document = {
        "filename": "ration card\n2024.pdf",
        "mime_type": "application/pdf",
        "sha256": "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c",
        "id": "2233445566778899",
    }
    got = one(message("document", document))
    assert got.kind == "media" and got.text == ""
    assert got.media == {
        "type": "document",
        "id": "2233445566778899",
        "mime_type": "application/pdf",
        "sha256": "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c",
        "filename": "ration card 2024.pdf",
    }


def test_media_without_id_is_skipped() -> None:
    raw = message("image", {"mime_type": "image/jpeg", "sha256": "abc"})
    assert parse_webhook(envelope(value([raw]))) == ([], [])


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("video", {"mime_type": "video/mp4", "sha256": "y=", "id": "56", "caption": "dekho"}),
        ("sticker", {"mime_type": "image/webp", "sha256": "z=", "id": "57", "animated": False}),
        (
            "contacts",
            [
                {
                    "name": {"formatted_name": "Ramesh Kumar", "first_name": "Ramesh"},
                    "phones": [{"phone": "+91 98111 22233", "wa_id": "919811122233"}],
                }
            ],
        ),
        ("reaction", {"message_id": wamid(7), "emoji": "👍"}),
    ],
)
def test_types_we_do_not_handle_are_unsupported(kind: str, body: Any) -> None:
    got = one(message(kind, body))
    assert (got.kind, got.original_type, got.text, got.media) == ("unsupported", kind, "", None)
    assert got.wa_id == CITIZEN and got.message_id == wamid(1)


def test_a_voice_note_is_audio_with_its_media() -> None:
    body = {"mime_type": "audio/ogg; codecs=opus", "sha256": "x=", "id": "55", "voice": True}
    got = one(message("audio", body))
    assert (got.kind, got.original_type, got.text) == ("audio", "audio", "")
    assert got.media == {
        "type": "audio",
        "id": "55",
        "mime_type": "audio/ogg",
        "sha256": "x=",
        "voice": True,
    }
    forwarded = one(message("audio", {"mime_type": "audio/mpeg", "id": "56"}))
    assert forwarded.kind == "audio" and forwarded.media and forwarded.media["voice"] is False


def test_unsupported_with_errors() -> None:
    raw = {
        "from": CITIZEN,
        "id": wamid(3),
        "timestamp": TS,
        "type": "unsupported",
        "errors": [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
    }
    got = one(raw)
    assert (got.kind, got.original_type) == ("unsupported", "unsupported")


def test_unknown_future_type_is_unsupported() -> None:
    got = one({"from": CITIZEN, "id": wamid(4), "timestamp": TS, "type": "poll", "poll": {}})
    assert (got.kind, got.original_type) == ("unsupported", "poll")


def test_location_with_name_and_address() -> None:
    location = {
        "latitude": 28.6129,
        "longitude": 77.2295,
        "name": "India Gate",
        "address": "Kartavya Path, India Gate, New Delhi, Delhi 110001",
        "url": "https://maps.example/india-gate",
    }
    got = one(message("location", location))
    assert got.kind == "location"
    assert got.location == {
        "latitude": 28.6129,
        "longitude": 77.2295,
        "name": "India Gate",
        "address": "Kartavya Path, India Gate, New Delhi, Delhi 110001",
    }


@pytest.mark.parametrize(
    "location",
    [
        {"latitude": "28.6", "longitude": 77.2},
        {"latitude": 28.6, "longitude": float("nan")},
        {"latitude": 128.6, "longitude": 77.2},
        {"latitude": True, "longitude": 77.2},
        {"latitude": 10**400, "longitude": 77.2},
        {"longitude": 77.2},
    ],
)
def test_impossible_locations_are_skipped(location: dict[str, Any]) -> None:
    assert parse_webhook(envelope(value([message("location", location)]))) == ([], [])


# =========================================================================== statuses


def test_statuses_sent_delivered_read() -> None:
    _, statuses = parse_webhook(
        envelope(value(statuses=[status("sent"), status("delivered"), status("read")]))
    )
    assert [s.status for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[0] == StatusUpdate(
        message_id=wamid(1),
        recipient_id=CITIZEN,
        status="sent",
        timestamp=1732350000,
        phone_number_id=PHONE_NUMBER_ID,
    )


def test_failed_status_with_errors() -> None:
    error = {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }
    raw: dict[str, Any] = {
        "id": wamid(5),
        "status": "failed",
        "timestamp": TS,
        "recipient_id": CITIZEN,
    }
    raw["errors"] = [error, "not an object", {"code": True}]
    _, statuses = parse_webhook(envelope(value(statuses=[raw])))
    assert len(statuses) == 1
    assert statuses[0].status == "failed"
    assert statuses[0].errors == (error,)


def test_unknown_status_kind_is_skipped() -> None:
    _, statuses = parse_webhook(envelope(value(statuses=[status("deleted"), status("read")])))
    assert [s.status for s in statuses] == ["read"]


def test_status_order_never_moves_backwards_and_failed_is_terminal() -> None:
    arrivals = ["read", "sent", "delivered", "failed", "read"]
    current = None
    for state in arrivals:
        if current is None or STATUS_ORDER[state] > STATUS_ORDER[current]:
            current = state
    assert current == "failed"
    assert STATUS_ORDER["sent"] < STATUS_ORDER["delivered"] < STATUS_ORDER["read"]
    assert max(STATUS_ORDER, key=STATUS_ORDER.__getitem__) == "failed"


# =========================================================================== batches


def test_batch_of_two_entries_with_two_changes_each() -> None:
    second_number = "109876543210987"
    contacts = [
        {"profile": {"name": "Sunita Devi"}, "wa_id": CITIZEN},
        {"profile": {"name": "Mohd. Arif"}, "wa_id": OTHER_CITIZEN},
    ]
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": value(
                            [
                                message("text", {"body": "namaste"}, 1),
                                message("text", {"body": "hello"}, 2, OTHER_CITIZEN),
                                message("image", {"id": "77", "mime_type": "image/png"}, 3),
                            ],
                            contacts=contacts,
                        ),
                    },
                    {
                        "field": "messages",
                        "value": value(statuses=[status("sent", 10), status("read", 11)]),
                    },
                ],
            },
            {
                "id": "102290129340399",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            **value(
                                [message("location", {"latitude": 28.7, "longitude": 77.1}, 4)],
                                phone_number_id=second_number,
                            ),
                            "statuses": [status("delivered", 12)],
                        },
                    },
                    {  # another webhook field on the same subscription: ignored
                        "field": "message_template_status_update",
                        "value": {"event": "APPROVED", "message_template_id": 1234},
                    },
                ],
            },
        ],
    }
    with no_parser_bugs():
        inbound, statuses = parse_webhook(payload)
    assert [m.message_id for m in inbound] == [wamid(1), wamid(2), wamid(3), wamid(4)]
    assert [m.kind for m in inbound] == ["text", "text", "media", "location"]
    assert [m.profile_name for m in inbound] == [
        "Sunita Devi",
        "Mohd. Arif",
        "Sunita Devi",
        "Sunita Devi",
    ]
    assert [m.phone_number_id for m in inbound] == [PHONE_NUMBER_ID] * 3 + [second_number]
    assert [(s.message_id, s.status) for s in statuses] == [
        (wamid(10), "sent"),
        (wamid(11), "read"),
        (wamid(12), "delivered"),
    ]
    assert statuses[2].phone_number_id == second_number


def test_malformed_messages_are_skipped_and_the_rest_kept() -> None:
    good = message("text", {"body": "ok"}, 1)
    bad = [
        "not a message",
        None,
        {**message("text", {"body": "no id"}, 2), "id": None},
        {k: v for k, v in message("text", {"body": "no sender"}, 3).items() if k != "from"},
        {**message("text", {"body": "bad time"}, 4), "timestamp": "yesterday"},
        {**message("text", {"body": "no type"}, 5), "type": 7},
        message("text", {"text": "wrong key"}, 6),
        message("interactive", {"type": "button_reply", "button_reply": {"title": "no id"}}, 7),
        message("button", {}, 8),
    ]
    with no_parser_bugs():
        inbound, _ = parse_webhook(envelope(value([*bad, good])))
    assert [m.message_id for m in inbound] == [wamid(1)]


def test_change_without_phone_number_id_is_skipped() -> None:
    broken = value([message("text", {"body": "x"})])
    broken["metadata"] = {"display_phone_number": DISPLAY}
    assert parse_webhook(envelope(broken)) == ([], [])


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "whatsapp_business_account",
        42,
        {},
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": "x"},
        {"object": "whatsapp_business_account", "entry": [None, 1, {"changes": {"a": 1}}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]},
    ],
)
def test_payloads_of_the_wrong_shape_give_nothing(payload: object) -> None:
    with no_parser_bugs():
        assert parse_webhook(payload) == ([], [])


def test_huge_nesting_does_not_raise() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    deep_dict: Any = {}
    for _ in range(100_000):
        deep_dict = {"messages": deep_dict, "entry": deep_dict}
    for payload in (deep, deep_dict, {"object": "whatsapp_business_account", "entry": deep}):
        with no_parser_bugs():
            assert parse_webhook(payload) == ([], [])
    nested_value = value([message("text", {"body": deep}), message("text", {"body": "ok"}, 2)])
    nested_value["statuses"] = [{**status("failed"), "errors": [{"error_data": deep_dict}]}]
    with no_parser_bugs():
        inbound, statuses = parse_webhook(envelope(nested_value))
    assert [m.text for m in inbound] == ["ok"]
    assert statuses[0].errors == ()


def test_logs_carry_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="connectors.whatsapp_format")
    secret = "मेरा आधार 2345 6789 0124"
    raws = [
        {**message("text", {"body": secret}), "timestamp": "bad"},
        {**message("secret-type-" + secret, {"body": secret}), "id": None},
        message("location", {"latitude": secret, "longitude": 1, "name": secret}),
    ]
    parse_webhook(envelope(value(raws)))
    assert caplog.records, "skips should be logged at debug"
    assert CITIZEN not in caplog.text and "2345" not in caplog.text and "आधार" not in caplog.text


def test_inbound_is_immutable() -> None:
    got = one(message("text", {"body": "x"}))
    with pytest.raises(AttributeError):
        got.text = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "whatsapp_business_account",
            "messages",
            "text",
            "interactive",
            "button_reply",
            "image",
            "location",
            CITIZEN,
            TS,
            wamid(1),
            10**400,
            -(10**30),
        ]
    )
)
json_data = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "changes",
                    "field",
                    "value",
                    "metadata",
                    "phone_number_id",
                    "messages",
                    "statuses",
                    "contacts",
                    "from",
                    "id",
                    "timestamp",
                    "type",
                    "text",
                    "body",
                    "errors",
                ]
            )
            | st.text(max_size=10),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)


def check_result(result: tuple[list[Inbound], list[StatusUpdate]]) -> None:
    inbound, statuses = result
    for m in inbound:
        assert isinstance(m, Inbound)
        assert m.kind in {"text", "reply", "media", "audio", "location", "unsupported"}
        assert m.message_id and m.wa_id and m.phone_number_id and m.original_type
        assert isinstance(m.timestamp, int) and isinstance(m.text, str)
        assert len(m.text) <= MAX_TEXT
        assert all(c == "\n" or unicodedata.category(c) not in ("Cc", "Cs") for c in m.text)
        m.text.encode("utf-8")  # storable
    for s in statuses:
        assert isinstance(s, StatusUpdate) and s.status in STATUS_ORDER


@settings(max_examples=400, deadline=None)
@given(json_data)
def test_parse_webhook_never_raises_on_arbitrary_json(payload: object) -> None:
    with no_parser_bugs():
        check_result(parse_webhook(payload))
        check_result(parse_webhook({"object": "whatsapp_business_account", "entry": payload}))
        check_result(
            parse_webhook(envelope({"metadata": {"phone_number_id": "1"}, "messages": [payload]}))
        )


def real_payload() -> dict[str, Any]:
    return envelope(
        value(
            [
                message("text", {"body": "नमस्ते"}, 1),
                message(
                    "interactive",
                    {"type": "list_reply", "list_reply": {"id": "r", "title": "t"}},
                    2,
                ),
                message("button", {"payload": "p", "text": "t"}, 3),
                message(
                    "image",
                    {"id": "1", "mime_type": "image/jpeg", "sha256": "h", "caption": "c"},
                    4,
                ),
                message(
                    "document", {"id": "2", "mime_type": "application/pdf", "filename": "f.pdf"}, 5
                ),
                message("location", {"latitude": 28.6, "longitude": 77.2, "name": "n"}, 6),
                message("audio", {"id": "3", "mime_type": "audio/ogg", "voice": True}, 7),
            ],
            statuses=[
                status("read", 8),
                {**status("failed", 9), "errors": [{"code": 1, "title": "x"}]},
            ],
        ),
        value(statuses=[status("sent", 10)]),
    )


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from paths(child, (*prefix, index))


REAL_PATHS = list(paths(real_payload()))[1:]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(REAL_PATHS), st.sampled_from(["replace", "delete"]), json_data),
        min_size=1,
        max_size=6,
    )
)
def test_parse_webhook_never_raises_on_mutated_real_payloads(
    mutations: list[tuple[tuple[Any, ...], str, Any]],
) -> None:
    payload = real_payload()
    for path, action, replacement in mutations:
        parent: Any = payload
        try:
            for step in path[:-1]:
                parent = parent[step]
            if action == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(replacement)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this path
    with no_parser_bugs():
        check_result(parse_webhook(payload))


def test_unmutated_real_payload_reads_completely() -> None:
    inbound, statuses = parse_webhook(real_payload())
    assert [m.kind for m in inbound] == [
        "text",
        "reply",
        "reply",
        "media",
        "media",
        "location",
        "audio",
    ]
    assert [s.status for s in statuses] == ["read", "failed", "sent"]


# =========================================================================== split_text


def test_short_text_is_one_chunk_and_blank_text_none() -> None:
    assert split_text("  hello  ") == ["hello"]
    assert split_text("") == [] and split_text(" \n\t ") == []


def test_split_prefers_paragraphs_then_lines_then_sentences_then_words() -> None:
    assert split_text("aaaa bbbb\n\ncccc dddd\neeee", 20) == ["aaaa bbbb", "cccc dddd\neeee"]
    assert split_text("aaaa bbbb\ncccc dddd eeee", 20) == ["aaaa bbbb", "cccc dddd eeee"]
    assert split_text("पहला वाक्य। दूसरा वाक्य है", 20) == ["पहला वाक्य।", "दूसरा वाक्य है"]
    assert split_text("Is it ok? Yes it is fine", 12) == ["Is it ok?", "Yes it is", "fine"]
    assert split_text("one two three four", 9) == ["one two", "three", "four"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_split_does_not_cut_a_decimal_number_at_its_point() -> None:
    assert split_text("Fee is Rs 3.50 only", 12) == ["Fee is Rs", "3.50 only"]


def test_hard_split_keeps_devanagari_clusters_together() -> None:
    word = "प्रमाणपत्र" * 3  # no spaces, conjuncts and vowel signs throughout
    chunks = split_text(word, 7)
    assert "".join(chunks) == word
    for chunk in chunks[1:]:
        assert unicodedata.category(chunk[0]) not in ("Mn", "Mc"), chunks
    for chunk in chunks[:-1]:
        assert not chunk.endswith("\u094d"), chunks  # a virama joins the next consonant


def test_split_5000_chars_fits_whatsapp() -> None:
    text = " ".join(["आय प्रमाण पत्र के लिए आवेदन करें।"] * 160)
    chunks = split_text(text)
    assert len(text) > 5000 and len(chunks) == 2
    assert all(len(c) <= MAX_TEXT for c in chunks)
    assert chunks[0].endswith("।")


def squash(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


split_alphabet = st.sampled_from(
    list("ab ") + ["\n", "\n\n", ".", "।", "?", "!", "क", "्", "ि", "\u200d", "🙏", "\t", "1"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(split_alphabet, max_size=200).map("".join), st.integers(1, 40))
def test_split_text_properties(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(chunk and len(chunk) <= limit for chunk in chunks)
    assert all(chunk == chunk.strip() for chunk in chunks)
    assert squash("".join(chunks)) == squash(text)
    position = 0  # every chunk is a piece of the text, in order
    for chunk in chunks:
        found = text.find(chunk, position)
        assert found >= position
        position = found + len(chunk)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(1, 60))
def test_split_text_properties_on_any_text(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(chunk and len(chunk) <= limit for chunk in chunks)
    assert squash("".join(chunks)) == squash(text)


# =========================================================================== outbound


class Issuer:
    """A stand-in for the channel's id store: short opaque ids mapped back to payloads."""

    def __init__(self) -> None:
        self.payloads: dict[str, str] = {}

    def __call__(self, payload: str) -> str:
        issued = f"b{len(self.payloads)}"
        self.payloads[issued] = payload
        return issued


def buttons(n: int, title: str = "Option") -> list[dict[str, str]]:
    return [{"title": f"{title} {i}", "payload": f'/choose{{"service":"s{i}"}}'} for i in range(n)]


def assert_valid(body: dict[str, Any], to: str = CITIZEN) -> None:
    """Every documented Cloud API limit for what we build."""
    assert body["messaging_product"] == "whatsapp"
    assert body["recipient_type"] == "individual" and body["to"] == to
    kind = body["type"]
    if kind == "text":
        assert body["text"]["preview_url"] is False
        assert 0 < len(body["text"]["body"]) <= 4096
    elif kind == "interactive":
        interactive = body["interactive"]
        assert 0 < len(interactive["body"]["text"]) <= 1024
        assert "header" not in interactive and "footer" not in interactive
        action = interactive["action"]
        if interactive["type"] == "button":
            replies = action["buttons"]
            assert 1 <= len(replies) <= 3
            assert all(r["type"] == "reply" for r in replies)
            assert all(0 < len(r["reply"]["title"]) <= 20 for r in replies)
            assert all(0 < len(r["reply"]["id"]) <= 256 for r in replies)
            assert len({r["reply"]["title"] for r in replies}) == len(replies)
            assert len({r["reply"]["id"] for r in replies}) == len(replies)
        else:
            assert interactive["type"] == "list"
            assert 0 < len(action["button"]) <= 20
            sections = action["sections"]
            assert len(sections) == 1 and len(sections[0]["title"]) <= 24
            rows = sections[0]["rows"]
            assert 1 <= len(rows) <= 10
            for row in rows:
                assert 0 < len(row["title"]) <= 24 and 0 < len(row["id"]) <= 200
                assert len(row.get("description", "")) <= 72
            assert len({r["id"] for r in rows}) == len(rows)
    else:
        assert kind in ("image", "document")
        assert body[kind]["link"]
        assert kind == "image" or body[kind]["filename"]


def rows_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["interactive"]["action"]["sections"][0]["rows"]


def test_text_only() -> None:
    bodies = outbound_payloads(CITIZEN, {"text": "आपका आवेदन जमा हो गया है।"}, Issuer(), "hi")
    assert bodies == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CITIZEN,
            "type": "text",
            "text": {"preview_url": False, "body": "आपका आवेदन जमा हो गया है।"},
        }
    ]


def test_long_text_only_is_split() -> None:
    text = "Your application is being processed. " * 150
    bodies = outbound_payloads(CITIZEN, {"text": text}, Issuer(), "en")
    assert len(bodies) == 2
    for body in bodies:
        assert_valid(body)
    assert squash("".join(b["text"]["body"] for b in bodies)) == squash(text)


def test_one_button() -> None:
    issuer = Issuer()
    bodies = outbound_payloads(CITIZEN, {"text": "Continue?", "buttons": buttons(1)}, issuer, "en")
    assert len(bodies) == 1
    assert_valid(bodies[0])
    assert bodies[0]["interactive"] == {
        "type": "button",
        "body": {"text": "Continue?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "b0", "title": "Option 0"}}]},
    }
    assert issuer.payloads == {"b0": '/choose{"service":"s0"}'}


def test_three_buttons_with_long_titles_are_cut() -> None:
    issuer = Issuer()
    choices = [
        {"title": "Apply for an income certificate", "payload": "/apply_income"},
        {"title": "Track my application", "payload": "/track"},
        {"title": "Talk to an officer", "payload": "/handoff"},
    ]
    [body] = outbound_payloads(CITIZEN, {"text": "What next?", "buttons": choices}, issuer, "en")
    assert_valid(body)
    replies = [b["reply"] for b in body["interactive"]["action"]["buttons"]]
    assert [r["title"] for r in replies] == [
        "Apply for an income…",
        "Track my application",
        "Talk to an officer",
    ]
    assert [issuer.payloads[r["id"]] for r in replies] == ["/apply_income", "/track", "/handoff"]
    assert all(c["payload"] not in r["id"] for c in choices for r in replies)


def test_three_buttons_whose_titles_collide_after_cutting_become_a_list() -> None:
    choices = [
        {"title": "Apply for an income certificate", "payload": "/a"},
        {"title": "Apply for an income tax refund", "payload": "/b"},
    ]
    [body] = outbound_payloads(CITIZEN, {"text": "Which?", "buttons": choices}, Issuer(), "en")
    assert_valid(body)
    assert body["interactive"]["type"] == "list"
    assert [r["description"] for r in rows_of(body)] == [c["title"] for c in choices]


def test_four_buttons_make_a_list_with_descriptions_for_cut_titles() -> None:
    issuer = Issuer()
    choices = buttons(3) + [{"title": "जाति प्रमाण पत्र (अनुसूचित जाति / जनजाति)", "payload": "/caste"}]
    [body] = outbound_payloads(
        CITIZEN, {"text": "Choose a service", "buttons": choices}, issuer, "en"
    )
    assert_valid(body)
    action = body["interactive"]["action"]
    assert body["interactive"]["type"] == "list" and action["button"] == "Choose"
    assert action["sections"][0]["title"] == "Options"
    rows = rows_of(body)
    assert [issuer.payloads[r["id"]] for r in rows] == [c["payload"] for c in choices]
    assert rows[0] == {"id": "b0", "title": "Option 0"}
    assert rows[3]["title"] == "जाति प्रमाण पत्र…"  # cut after a word, not inside one
    assert rows[3]["description"] == "जाति प्रमाण पत्र (अनुसूचित जाति / जनजाति)"


def test_ten_buttons_fit_one_list() -> None:
    issuer = Issuer()
    [body] = outbound_payloads(CITIZEN, {"text": "Pick", "buttons": buttons(10)}, issuer, "en")
    assert_valid(body)
    assert len(rows_of(body)) == 10
    assert not any(p.startswith(PAGE_PREFIX) for p in issuer.payloads.values())


def follow_pages(first: list[dict[str, Any]], issuer: Issuer, language: str) -> list[list[str]]:
    """Taps "More…" until there is none; returns the payloads shown on each page."""
    pages: list[list[str]] = []
    bodies = first
    for _ in range(20):
        [body] = bodies
        assert_valid(body)
        if body["interactive"]["type"] == "button":
            ids = [b["reply"]["id"] for b in body["interactive"]["action"]["buttons"]]
        else:
            ids = [r["id"] for r in rows_of(body)]
        payloads = [issuer.payloads[i] for i in ids]
        pages.append([p for p in payloads if not p.startswith(PAGE_PREFIX)])
        more = [p for p in payloads if p.startswith(PAGE_PREFIX)]
        if not more:
            return pages
        assert payloads[-1] == more[0] and len(payloads) == 10
        bodies = more_page_payloads(CITIZEN, more[0][len(PAGE_PREFIX) :], issuer, language, "")
    raise AssertionError("paging did not terminate")


def test_eleven_buttons_page_into_nine_and_a_more_row() -> None:
    issuer = Issuer()
    first = outbound_payloads(CITIZEN, {"text": "Pick", "buttons": buttons(11)}, issuer, "en")
    rows = rows_of(first[0])
    assert len(rows) == 10 and rows[-1]["title"] == "More…"
    page = issuer.payloads[rows[-1]["id"]]
    assert page.startswith(PAGE_PREFIX)
    assert json.loads(page[len(PAGE_PREFIX) :]) == [
        {"title": b["title"], "payload": b["payload"]} for b in buttons(11)[9:]
    ]
    pages = follow_pages(first, issuer, "en")
    assert [len(p) for p in pages] == [9, 2]
    assert [p for page_ in pages for p in page_] == [b["payload"] for b in buttons(11)]


def test_twenty_five_buttons_page_until_done() -> None:
    issuer = Issuer()
    first = outbound_payloads(CITIZEN, {"text": "सेवा चुनें", "buttons": buttons(25)}, issuer, "hi")
    assert rows_of(first[0])[-1]["title"] == "और…"
    pages = follow_pages(first, issuer, "hi")
    assert [len(p) for p in pages] == [9, 9, 7]
    assert [p for page_ in pages for p in page_] == [b["payload"] for b in buttons(25)]


def test_more_page_accepts_the_prefixed_payload_and_rejects_garbage() -> None:
    remaining = json.dumps([{"title": "Last one", "payload": "/last"}])
    issuer = Issuer()
    [body] = more_page_payloads(CITIZEN, PAGE_PREFIX + remaining, issuer, "en", "")
    assert body["interactive"]["body"]["text"] == "Choose an option"
    assert issuer.payloads == {"b0": "/last"}
    assert more_page_payloads(CITIZEN, "{not json", Issuer(), "en") == []
    assert more_page_payloads(CITIZEN, "[" * 100_000, Issuer(), "en") == []
    assert more_page_payloads(CITIZEN, "[]", Issuer(), "en") == []


def test_long_text_with_buttons_sends_head_as_text_and_keeps_body_within_1024() -> None:
    text = " ".join(f"Step {i}: bring your documents to the office." for i in range(120))
    assert len(text) > 5000
    bodies = outbound_payloads(CITIZEN, {"text": text, "buttons": buttons(2)}, Issuer(), "en")
    for body in bodies:
        assert_valid(body)
    *head, last = bodies
    assert head and all(b["type"] == "text" for b in head) and len(head) == 2
    assert last["type"] == "interactive"
    body = last["interactive"]["body"]["text"]
    assert 1024 - 50 < len(body) <= 1024  # as much as fits, starting at a sentence
    assert body.startswith("Step ") and head[-1]["text"]["body"].endswith("office.")
    sent = "".join(b["text"]["body"] for b in head) + last["interactive"]["body"]["text"]
    assert squash(sent) == squash(text)


def test_hindi_list_labels_and_default_body() -> None:
    [body] = outbound_payloads(CITIZEN, {"text": "", "buttons": buttons(5)}, Issuer(), "hi")
    assert_valid(body)
    assert body["interactive"]["action"]["button"] == "चुनें"
    assert body["interactive"]["action"]["sections"][0]["title"] == "विकल्प"
    assert body["interactive"]["body"]["text"] == "एक विकल्प चुनें"
    [english] = outbound_payloads(CITIZEN, {"buttons": buttons(2)}, Issuer(), "ta")
    assert english["interactive"]["body"]["text"] == "Choose an option"


def test_quick_replies_are_buttons() -> None:
    issuer = Issuer()
    message = {"text": "Language?", "quick_replies": [{"title": "हिंदी", "payload": "/hi"}]}
    [body] = outbound_payloads(CITIZEN, message, issuer, "en")
    assert body["interactive"]["type"] == "button"
    assert issuer.payloads == {"b0": "/hi"}


def test_invalid_and_repeated_buttons_are_dropped() -> None:
    issuer = Issuer()
    choices: list[Any] = [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "Yes again", "payload": "/affirm"},
        {"title": "", "payload": "/x"},
        {"title": "No payload"},
        "No",
        {"title": "No", "payload": "/deny"},
    ]
    [body] = outbound_payloads(CITIZEN, {"text": "Sure?", "buttons": choices}, issuer, "en")
    assert [b["reply"]["title"] for b in body["interactive"]["action"]["buttons"]] == ["Yes", "No"]


def test_when_no_id_can_be_issued_the_text_still_goes_out() -> None:
    def broken(payload: str) -> str:
        raise RuntimeError("store down")

    bodies = outbound_payloads(CITIZEN, {"text": "Choose", "buttons": buttons(2)}, broken, "en")
    assert bodies == outbound_payloads(CITIZEN, {"text": "Choose"}, Issuer(), "en")


def test_image_and_documents() -> None:
    url = "https://edistrict.delhi.gov.in/certificates/INC-2026-0042.pdf"
    assert outbound_payloads(CITIZEN, {"image": "https://example.in/qr.png"}, Issuer(), "en") == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CITIZEN,
            "type": "image",
            "image": {"link": "https://example.in/qr.png"},
        }
    ]
    message = {"attachment": {"type": "document", "url": url, "filename": "Income certificate.pdf"}}
    [document] = outbound_payloads(CITIZEN, message, Issuer(), "en")
    assert document["type"] == "document"
    assert document["document"] == {"link": url, "filename": "Income certificate.pdf"}
    [plain] = outbound_payloads(CITIZEN, {"attachment": url}, Issuer(), "en")
    assert plain["document"] == {"link": url, "filename": "INC-2026-0042.pdf"}
    [picture] = outbound_payloads(
        CITIZEN, {"attachment": {"type": "image", "url": url}}, Issuer(), "en"
    )
    assert picture["image"] == {"link": url}


def test_text_then_image_in_rasa_order() -> None:
    bodies = outbound_payloads(
        CITIZEN, {"text": "Your QR code:", "image": "https://x.in/q.png"}, Issuer(), "en"
    )
    assert [b["type"] for b in bodies] == ["text", "image"]


def test_custom_with_type_is_passed_through() -> None:
    custom = {
        "type": "template",
        "to": "someone-else",
        "messaging_product": "sms",
        "template": {"name": "application_update", "language": {"code": "hi"}},
    }
    [body] = outbound_payloads(CITIZEN, {"custom": custom}, Issuer(), "hi")
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CITIZEN,
        "type": "template",
        "template": {"name": "application_update", "language": {"code": "hi"}},
    }


def test_custom_without_type_elements_and_empty_messages_send_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.whatsapp_format")
    custom = {"blocks": [{"text": "secret internal json"}]}
    assert outbound_payloads(CITIZEN, {"custom": custom}, Issuer(), "en") == []
    assert "custom" in caplog.text and "secret internal json" not in caplog.text
    assert outbound_payloads(CITIZEN, {"elements": [{"title": "card"}]}, Issuer(), "en") == []
    assert outbound_payloads(CITIZEN, {}, Issuer(), "en") == []
    assert outbound_payloads(CITIZEN, {"text": "   "}, Issuer(), "en") == []
    assert outbound_payloads(CITIZEN, None, Issuer(), "en") == []  # type: ignore[arg-type]
    assert outbound_payloads("", {"text": "x"}, Issuer(), "en") == []


outbound_messages = st.dictionaries(
    st.sampled_from(["text", "buttons", "quick_replies", "image", "attachment", "elements"]),
    json_data
    | st.lists(
        st.fixed_dictionaries(
            {"title": st.text(max_size=80), "payload": st.text(min_size=1, max_size=40)}
        ),
        max_size=30,
    )
    | st.text(max_size=6000),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(outbound_messages, st.sampled_from(["hi", "en", "", "hi-IN"]))
def test_outbound_payloads_never_raises_and_respects_limits(
    message: dict[str, Any], language: str
) -> None:
    issuer = Issuer()
    with no_parser_bugs():
        bodies = outbound_payloads(CITIZEN, message, issuer, language)
        for body in bodies:
            assert_valid(body)
            if body["type"] == "interactive":
                action = body["interactive"]["action"]
                ids = [b["reply"]["id"] for b in action.get("buttons", [])]
                ids += [r["id"] for s in action.get("sections", []) for r in s["rows"]]
                assert all(i in issuer.payloads for i in ids)
            if body["type"] == "text":  # only ever the text itself, never a dump of the rest
                assert body["text"]["body"] in str(message.get("text"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(split_alphabet | st.just("word "), max_size=3000).map("".join),
    st.integers(1, 12),
)
def test_text_with_buttons_keeps_every_character(text: str, count: int) -> None:
    bodies = outbound_payloads(CITIZEN, {"text": text, "buttons": buttons(count)}, Issuer(), "en")
    for body in bodies:
        assert_valid(body)
    *head, last = bodies
    assert all(b["type"] == "text" for b in head) and last["type"] == "interactive"
    sent = "".join(b["text"]["body"] for b in head) + last["interactive"]["body"]["text"]
    assert squash(sent) == squash(text) or (not squash(text) and sent == "Choose an option")
