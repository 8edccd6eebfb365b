"""The one Aadhaar masker (privacy/), property-tested, and its users: the channel's rows,
the logs, the backends' guard, officers' replies in the tracker and the event broker.

Run with ``--hypothesis-show-statistics`` to see how many examples each property tried.
"""

from __future__ import annotations

import json
import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered

import privacy
from backends.web import contains_aadhaar as backends_guard
from connectors import conversation
from ops.logs import mask as log_mask
from service_catalogue.validation import redact_aadhaar as validation_redact

EXAMPLES = 400
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
SEPARATORS = ["", " ", "  ", ".", "-", "\u00a0", "_", " - ", "\u202f", "\u2009", "\u2013"]
# text around a number: letters of both scripts, punctuation, spaces; no digits, no "+"
AROUND = st.text(alphabet=string.ascii_letters + " ,.:;()/आधारनंबरहैमेरा।\n\u00a0-_", max_size=20)


def checked(body: str) -> str:
    """``body`` (11 digits) and its Verhoeff check digit."""
    for digit in "0123456789":
        if privacy.verhoeff_valid(body + digit):
            return body + digit
    raise AssertionError("every body has a check digit")


aadhaar_numbers = st.builds(
    lambda first, rest: checked(str(first) + "".join(map(str, rest))),
    st.integers(2, 9),
    st.lists(st.integers(0, 9), min_size=10, max_size=10),
)


@st.composite
def typed_aadhaar(draw):
    """An Aadhaar number as a citizen (or a file name, a profile) may write it."""
    number = draw(aadhaar_numbers)
    first, second = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(SEPARATORS))
    typed = f"{number[:4]}{first}{number[4:8]}{second}{number[8:]}"
    script = draw(st.sampled_from(["ascii", "devanagari", "mixed"]))
    if script == "devanagari":
        typed = typed.translate(DEVANAGARI)
    elif script == "mixed":
        typed = "".join(c.translate(DEVANAGARI) if draw(st.booleans()) else c for c in typed)
    return number, typed


def digits(text: str) -> str:
    return "".join(c for c in privacy.to_ascii_digits(text) if c.isdigit())


@settings(max_examples=EXAMPLES)
@given(typed_aadhaar(), AROUND, AROUND)
def test_every_way_of_typing_an_aadhaar_number_is_masked(typed, before, after):
    number, written = typed
    text = before + written + after
    for masker in (privacy.redact_aadhaar, validation_redact, log_mask):
        masked = masker(text)
        assert number not in digits(masked), (masker.__module__, text, masked)
        assert digits(masked).endswith(number[-4:])  # the last four stay (logs: 91XXXXXX1234)
        assert masker(masked) == masked  # idempotent
    assert privacy.redact_aadhaar(text) == before + f"XXXX-XXXX-{number[-4:]}" + after
    assert backends_guard(text)


@settings(max_examples=EXAMPLES)
@given(aadhaar_numbers, st.sampled_from(SEPARATORS), AROUND)
def test_a_number_failing_the_check_digit_is_left_alone(number, separator, before):
    wrong = number[:11] + str((int(number[11]) + 1) % 10)
    text = before + separator.join((wrong[:4], wrong[4:8], wrong[8:]))
    assert privacy.redact_aadhaar(text) == text
    assert not backends_guard(text)


MOBILE_FORMS = [
    "{m}",
    "+91{m}",
    "+91 {m}",
    "+91-{m}",
    "+91 {a} {b}",
    "+91-{a}-{b}",
    "(+91) {a} {b}",
    "0{m}",
    "0{a} {b}",
    "{a} {b}",
    "{a}-{b}",
    "91 {m}",
    "91-{a}-{b}",
]


@settings(max_examples=EXAMPLES)
@given(
    st.from_regex(r"\A[6-9][0-9]{9}\Z"),
    st.sampled_from(MOBILE_FORMS),
    st.booleans(),
    AROUND,
    AROUND,
)
def test_phone_numbers_are_not_taken_for_aadhaar(mobile, form, devanagari, before, after):
    written = form.format(m=mobile, a=mobile[:5], b=mobile[5:])
    if devanagari:
        written = written.translate(DEVANAGARI)
    text = f"{before} {written} {after}"
    assert privacy.redact_aadhaar(text) == text
    assert not backends_guard(text)


@settings(max_examples=EXAMPLES)
@given(
    st.sampled_from(["APP", "GRV", "RCPT", "CERT", "BRD"]),
    st.integers(2000, 2099),
    st.integers(0, 999999),
    st.sampled_from(["{p}-{y}-{n:06d}", "{p} {y} {n:06d}", "{p}{y}{n:06d}", "{p}/{y}/{n:06d}"]),
    AROUND,
)
def test_application_and_grievance_ids_are_not_masked(prefix, year, number, form, before):
    text = f"{before} {form.format(p=prefix, y=year, n=number)} status?"
    assert privacy.redact_aadhaar(text) == text
    assert log_mask(text) == text


json_leaves = st.one_of(
    st.text(max_size=12), st.integers(-(10**6), 10**6), st.booleans(), st.none(), st.floats(0, 90)
)


@settings(max_examples=EXAMPLES)
@given(
    st.recursive(
        json_leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    ),
    typed_aadhaar(),
    st.randoms(use_true_random=False),
)
def test_mask_tree_masks_every_string_at_any_depth(tree, typed, rng: random.Random):
    number, written = typed
    planted = {"message_id": "wamid.HBgM" + number, "payload": [tree, {"note": written}]}
    node = planted["payload"]
    for _ in range(rng.randint(0, 3)):  # bury it deeper, under a key or in a list
        node = [node] if rng.random() < 0.5 else {"filename": f"x {written}.pdf", "k": node}
    masked = privacy.mask_tree({"row": node, "message_id": planted["message_id"]})
    for leaf in strings(masked["row"]):
        assert number not in digits(leaf), leaf
    assert masked["message_id"] == planted["message_id"]  # identifiers are never changed
    assert privacy.mask_tree(masked) == masked


def strings(value):
    """Every string of a JSON-like value, dict keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def test_identifiers_and_digests_are_kept():
    sha = "2345678901240" + "ab" * 25 + "c"
    row = {"wa_id": "919876543210", "sha256": sha, "storage_ref": f"media/{sha}.pdf"}
    assert privacy.mask_tree(row) == row
    assert privacy.mask_tree(234567890124) == "XXXX-XXXX-0124"


async def test_an_officers_reply_reaches_the_tracker_and_event_broker_masked(tmp_path):
    """The officer types the citizen's Aadhaar number in a reply: what the tracker and
    the event broker keep is its mask (conversation.append, used for every officer
    action)."""
    domain = Domain.empty()
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    agent = type("Agent", (), {})()
    agent.domain = domain
    agent.lock_store = InMemoryLockStore()
    agent.tracker_store = InMemoryTrackerStore(domain, event_broker=broker)
    reply = BotUttered(
        "Aapka aadhaar 2345.6789.0124 record mein hai",
        metadata={"officer_id": "officer-1", "note": "uid 2345 6789 0124"},
    )
    await conversation.append(agent, "919800011111", [reply])
    tracker = await agent.tracker_store.retrieve("919800011111")
    kept = json.dumps([e.as_dict() for e in tracker.events], ensure_ascii=False)
    with broker.session_scope() as session:
        published = " ".join(row.data for row in session.query(broker.SQLBrokerEvent))
    for where in (kept, published):
        assert "234567890124" not in digits(where)
        assert "XXXX-XXXX-0124 record" in where
