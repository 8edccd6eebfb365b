"""The NLU trainer's inbox (issue 14, item 10): which messages it lists, read from Rasa's
real SQL event broker table; how a trainer confirms or corrects them through the real
dashboard process; the export (valid Rasa NLU YAML per language, masked, de-duplicated
against data/nlu/ and bench/heldout/, marked unreviewed); the audit; and the check that
keeps an unreviewed export out of data/nlu/ (item 11)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from rasa.core.brokers.sql import SQLEventBroker
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    UserUttered,
)
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import select, text

from dashboard import nlu_export
from dashboard.db import ROLES, AuditEntry, Database, NluAnnotation
from dashboard.feed import Feed
from dashboard.nlu_export import MARKER, Example, render_export
from dashboard.nlu_inbox import REASONS
from dashboard.trainer import VERDICTS
from dashboard.web import PAGE_ROLES
from service_catalogue import load
from tests.support.dashboard import Dashboard, csrf_of, running_dashboard

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = load()
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc).timestamp()
BIJLI = "bijli ka bill kaise bharu"
NAAM = "mera naam galat chapa hai certificate pe"


def parse(
    words: str,
    intent: str,
    confidence: float,
    ranking: tuple[tuple[str, float], ...] = (),
    entities: tuple[dict[str, Any], ...] = (),
    language: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What our NLU pipeline puts in a user event (intent, ranking, entities, language)."""
    latin = not any("\u0900" <= c <= "\u097f" for c in words)
    return {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}]
        + [{"name": n, "confidence": c} for n, c in ranking],
        "entities": list(entities),
        "language": language
        or {"code": "hi", "script": "latn" if latin else "deva", "hinglish": latin},
        "text": words,
    }


class Rasa:
    """Publishes to the broker table exactly as Rasa's tracker store does."""

    def __init__(self, path: Path) -> None:
        self.broker = SQLEventBroker(db=str(path))
        self.at = T0

    def publish(self, sender_id: str, *events: Event) -> None:
        for event in events:
            self.at += 5
            event.timestamp = self.at
            self.broker.publish({"sender_id": sender_id, **event.as_dict()})

    def says(
        self, sender_id: str, words: str, intent: str, confidence: float = 0.95, **kw: Any
    ) -> None:
        data = parse(words, intent, confidence, **kw)
        self.publish(
            sender_id,
            UserUttered(words, data["intent"], data["entities"], data, metadata={"department": ""}),
        )

    def answers(self, sender_id: str, words: str, action: str = "utter_x") -> None:
        self.publish(
            sender_id,
            ActionExecuted(action),
            BotUttered(words),
            ActionExecuted("action_listen"),
        )


@pytest.fixture
def rasa(tmp_path: Path) -> Rasa:
    return Rasa(tmp_path / "events.db")


@pytest.fixture
def feed(rasa: Rasa) -> Feed:
    return Feed(f"sqlite:///{rasa.broker.engine.url.database}", CATALOGUE)


def listed(feed: Feed) -> dict[str, set[str]]:
    return {c.text: c.reasons for c in feed.inbox.items.values()}


# --------------------------------------------------------------------------- what is listed


async def test_the_misunderstood_messages_of_the_issue_are_listed(rasa: Rasa, feed: Feed) -> None:
    # "bijli ka bill kaise bharu" -> pay_fee at 0.88: sure, but the citizen says it is wrong
    rasa.says("919810000101", BIJLI, "pay_fee", 0.88, ranking=(("out_of_scope", 0.06),))
    rasa.answers("919810000101", "Which application do you want to pay for?")
    rasa.says("919810000101", "nahi galat samjhe, bijli ka bill", "deny", 0.7)
    # "mera naam galat chapa hai certificate pe" -> download_certificate at 0.59
    rasa.says("919810000102", "namaste", "greet", 0.99)
    rasa.answers("919810000102", "Namaste! I am Delhi Sewa.")
    # "galat" describes the problem here: no verdict on "namaste"
    rasa.says("919810000102", NAAM, "download_certificate", 0.59)
    rasa.answers("919810000102", "Send your application number.")
    # a message understood well, followed by an ordinary answer: not listed
    rasa.says("919810000103", "income certificate chahiye", "apply_service", 0.97)
    rasa.answers("919810000103", "Income certificate: fee ₹0. Apply?")
    rasa.says("919810000103", "haan", "affirm", 0.99)
    await feed.poll()

    found = listed(feed)
    assert found[BIJLI] == {"said_no"}
    assert found[NAAM] == {"low_confidence"}
    assert "income certificate chahiye" not in found and "haan" not in found
    assert "namaste" not in found
    item = next(c for c in feed.inbox.items.values() if c.text == BIJLI)
    assert item.language == "hinglish" and item.intent == "pay_fee"
    assert item.confidence == pytest.approx(0.88)
    assert item.ranking == [("out_of_scope", 0.06)]
    assert item.previous is None
    naam = next(c for c in feed.inbox.items.values() if c.text == NAAM)
    assert naam.previous == "Namaste! I am Delhi Sewa."  # what the assistant had said


async def test_conversation_signals_rephrase_human_takeover_and_fallback(
    rasa: Rasa, feed: Feed
) -> None:
    # rephrased at once: the next message says most of it again
    rasa.says("919810000111", "pension kab aayegi", "check_status", 0.8)
    rasa.answers("919810000111", "Send your application number.")
    rasa.says("919810000111", "meri pension kab aayegi", "check_status", 0.8)
    # asked for a human right after
    rasa.says("919810000112", "ration card me naam jodna", "apply_service", 0.9)
    rasa.answers("919810000112", "Ration card: apply?")
    rasa.says("919810000112", "kisi insaan se baat karao", "talk_to_human", 0.95)
    # an officer took over after it
    rasa.says("919810000113", "mera form atak gaya", "check_status", 0.9)
    rasa.answers("919810000113", "Send your application number.")
    rasa.publish("919810000113", ConversationPaused(metadata={"officer_id": "ravi"}))
    # the assistant fell back (clarifying question)
    rasa.says("919810000114", "woh wala kaam", "nlu_fallback", 0.3, ranking=(("inform", 0.3),))
    rasa.answers("919810000114", "Did you mean…?", action="action_clarify")
    await feed.poll()

    found = listed(feed)
    assert found["pension kab aayegi"] == {"rephrased"}
    assert found["ration card me naam jodna"] == {"asked_human"}
    assert "kisi insaan se baat karao" not in found  # asking for a human is understood
    assert found["mera form atak gaya"] == {"officer_took_over"}
    assert found["woh wala kaam"] == {"fallback", "low_confidence"}
    fallback = next(c for c in feed.inbox.items.values() if c.text == "woh wala kaam")
    assert fallback.intent == "inform" and fallback.fell_back  # the classifier's best guess


async def test_messages_to_an_officer_form_answers_and_buttons_are_not_nlu_data(
    rasa: Rasa, feed: Feed
) -> None:
    citizen = "919810000121"
    rasa.says(citizen, "officer se baat", "talk_to_human", 0.95)
    rasa.publish(citizen, ConversationPaused(metadata={"officer_id": "ravi"}))
    # written to the officer during the handoff: low confidence, but not NLU data
    rasa.says(citizen, "ji maine kal form bhara tha", "inform", 0.2)
    rasa.says(citizen, "galat hai sab", "deny", 0.9)
    # a form's answer (a name) and a tapped button
    other = "919810000122"
    rasa.publish(other, ActiveLoop("application_form"))
    rasa.says(other, "Sunita Devi", "inform", 0.3)
    rasa.publish(other, ActiveLoop(None))
    rasa.says(other, "/affirm", "affirm", 1.0)
    rasa.says(other, "🙏🙏", "nlu_fallback", 1.0)
    await feed.poll()
    assert listed(feed) == {}


async def test_numbers_are_masked_and_an_erased_citizen_leaves_the_inbox(
    rasa: Rasa, feed: Feed
) -> None:
    citizen = "919810000131"
    words = "mera aadhaar 2345 6789 0124 aur phone 9876543210 hai"
    rasa.says(citizen, words, "inform", 0.3)
    rasa.says("919810000132", "kuch samajh nahi aaya", "nlu_fallback", 0.2)
    await feed.poll()
    texts = list(listed(feed))
    assert "mera aadhaar XXXX-XXXX-0124 aur phone XXXXXX3210 hai" in texts
    assert not any("2345" in t or "98765" in t for t in texts)

    # the channel erases the citizen: their rows leave the table, their items the inbox
    with feed.engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": citizen})
    feed._reconciled_at = 0.0
    await feed.poll()
    assert list(listed(feed)) == ["kuch samajh nahi aaya"]


async def test_entities_are_kept_with_their_confidence_and_span(rasa: Rasa, feed: Feed) -> None:
    words = "janam praman patra ki fees kitni"
    service = {
        "entity": "service",
        "value": "birth_certificate",
        "start": 0,
        "end": 18,
        "confidence_entity": 1.0,
        "extractor": "CatalogueEntityExtractor",
    }
    rasa.says("919810000141", words, "pay_fee", 0.45, entities=(service,))
    await feed.poll()
    (item,) = feed.inbox.items.values()
    assert item.service == {
        "entity": "service",
        "value": "birth_certificate",
        "start": 0,
        "end": 18,
        "confidence": 1.0,
        "extractor": "CatalogueEntityExtractor",
    }


# --------------------------------------------------------------------------- the export


def test_the_export_is_valid_rasa_yaml_masked_deduplicated_and_marked(tmp_path: Path) -> None:
    training = nlu_export.known_examples([ROOT / "data" / "nlu"])
    heldout = nlu_export.known_examples([ROOT / "bench" / "heldout"])
    in_training = next(iter(training))
    in_heldout = next(k for k in heldout if k not in training)
    service = {"entity": "service", "value": "birth_certificate", "start": 0, "end": 18}
    examples = [
        Example(BIJLI, "out_of_scope"),
        Example("Bijli  ka bill kaise bharu?", "out_of_scope"),  # the same sentence again
        Example("janam praman patra ki fees kitni", "service_info", (service,)),
        Example(
            "status of app-2026-000123 and my phone 9876543210",
            "check_status",
            ({"entity": "application_id", "value": "x", "start": 10, "end": 25},),
        ),  # fmt: skip
        Example("[meri] aadhaar 2345 6789 0124 wali application", "check_status"),
        Example(in_training, "greet"),
        Example(in_heldout, "greet"),
    ]
    now = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
    result = render_export("hinglish", examples, training, heldout, now, "asha")
    assert (result.written, result.in_training, result.in_heldout, result.repeated) == (4, 1, 1, 1)

    document = yaml.safe_load(result.yaml)
    assert MARKER in document and document["version"] == "3.1"
    data = RasaYAMLReader().reads(result.yaml)
    got = {(m.get("text"), m.get("intent")) for m in data.intent_examples}
    assert got == {
        (BIJLI, "out_of_scope"),
        ("janam praman patra ki fees kitni", "service_info"),
        ("status of app-2026-000123 and my phone XXXXXX3210", "check_status"),
        ("(meri) aadhaar XXXX-XXXX-0124 wali application", "check_status"),
    }
    entities = {
        m.get("text"): [
            (e["entity"], e.get("value"), e["start"], e["end"]) for e in m.get("entities") or []
        ]  # fmt: skip
        for m in data.intent_examples
    }
    assert entities["janam praman patra ki fees kitni"] == [("service", "birth_certificate", 0, 18)]
    assert entities["status of app-2026-000123 and my phone XXXXXX3210"] == [
        ("application_id", "app-2026-000123", 10, 25)
    ]
    assert "9876543210" not in result.yaml and "2345 6789" not in result.yaml


def test_an_unreviewed_export_in_the_training_data_fails_with_one_message(tmp_path: Path) -> None:
    data = tmp_path / "data" / "nlu" / "hi"
    data.mkdir(parents=True)
    (data / "core.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - नमस्ते\n'
    )
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    export = render_export("hi", [Example("बिजली का बिल", "out_of_scope")], {}, {}, now, "asha")
    command = [sys.executable, "-m", "dashboard.nlu_export", "check", str(tmp_path / "data")]
    clean = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert clean.returncode == 0 and clean.stderr == ""

    (tmp_path / "data" / "nlu" / "nlu-export-hi-20261207-1000.yml").write_text(export.yaml)
    refused = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("Unreviewed NLU export") == 1
    assert "nlu-export-hi-20261207-1000.yml" in refused.stderr
    assert "docs/nlu-guide.md" in refused.stderr
    # reviewed (the key deleted): the same examples are ordinary training data
    reviewed = "".join(
        line for line in export.yaml.splitlines(keepends=True) if not line.startswith(MARKER)
    )
    (tmp_path / "data" / "nlu" / "nlu-export-hi-20261207-1000.yml").write_text(reviewed)
    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert again.returncode == 0


def test_the_makefile_checks_before_validating_and_training() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("validate", "train"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe, target
        lines = recipe.group(1).splitlines()
        assert "dashboard.nlu_export check data" in lines[0], (target, lines)


# --------------------------------------------------------------------------- the dashboard


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dashboard, Rasa, Path]]:
    directory = tmp_path_factory.mktemp("trainer")
    rasa = Rasa(directory / "events.db")
    training = directory / "nlu"
    (training / "hinglish").mkdir(parents=True)
    (training / "hinglish" / "core.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - namaste ji\n'
    )
    heldout = directory / "heldout"
    heldout.mkdir()
    (heldout / "hinglish.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - ram ram bhai\n'
    )
    with running_dashboard(
        directory,
        EVENTS_DB_URL=f"sqlite:///{directory / 'events.db'}",
        DASHBOARD_NLU_DATA=str(training),
        DASHBOARD_NLU_HELDOUT=str(heldout),
    ) as dash:
        dash.add_user("asha", "trainer", name="Asha Rani")
        dash.add_user("ravi", "officer", departments=["revenue"], name="Ravi Gupta")
        yield dash, rasa, directory


def items(page: str) -> list[str]:
    return re.findall(r'data-item="(\d+)"', page)


def wait_listed(trainer: requests.Session, dash: Dashboard, words: str) -> str:
    """The inbox page once the dashboard's feed has read ``words`` (it polls the table)."""
    deadline = time.monotonic() + 15
    while True:
        page = trainer.get(f"{dash.url}/trainer", timeout=10).text
        if f">{words}</p>" in page or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


def item_id(page: str, words: str) -> str:
    for match in re.finditer(r'data-item="(\d+)".*?<p class="said"[^>]*>([^<]*)</p>', page, re.S):
        if match.group(2) == words:
            return match.group(1)
    raise AssertionError(f"{words!r} is not in the inbox")


def stored(dash: Dashboard, table: Any, *where: Any) -> list[Any]:
    """Rows of one of the dashboard's tables, detached from their session."""
    db = Database(dash.db_url)

    def read(session: Any) -> list[Any]:
        rows = list(session.execute(select(table).where(*where)).scalars())
        session.expunge_all()
        return rows

    try:
        return list(db.run(read))
    finally:
        db.dispose()


def audit_rows(dash: Dashboard, action: str) -> list[AuditEntry]:
    return stored(dash, AuditEntry, AuditEntry.action == action)


def annotations(dash: Dashboard) -> list[NluAnnotation]:
    return stored(dash, NluAnnotation)


def test_only_trainers_reach_the_inbox(system: Any) -> None:
    dash, _, _ = system
    officer = dash.sign_in("ravi")
    assert officer.get(f"{dash.url}/trainer", timeout=10).status_code == 403
    assert officer.get(f"{dash.url}/trainer/export/hi.yml", timeout=10).status_code == 403
    trainer = dash.sign_in("asha")
    landing = trainer.get(f"{dash.url}/", timeout=10)
    assert landing.url.endswith("/trainer") and landing.status_code == 200
    assert trainer.get(f"{dash.url}/conversations", timeout=10).status_code == 403
    assert trainer.get(f"{dash.url}/applications", timeout=10).status_code == 403


def test_a_trainer_confirms_corrects_exports_and_every_step_is_audited(system: Any) -> None:
    dash, rasa, _ = system
    rasa.answers("919810000201", "Namaste! How can I help you?")
    rasa.says("919810000201", BIJLI, "pay_fee", 0.88, ranking=(("out_of_scope", 0.05),))
    rasa.answers("919810000201", "Which application do you want to pay for?")
    rasa.says("919810000201", "nahi yeh galat hai", "deny", 0.8)
    rasa.says("919810000202", NAAM, "download_certificate", 0.59)
    rasa.says("919810000203", "mera dl renew karna hai", "apply_service", 0.52, entities=(
        {"entity": "service", "value": "driving_licence_renewal", "start": 5, "end": 13,
         "confidence_entity": 1.0, "extractor": "CatalogueEntityExtractor"},))  # fmt: skip
    rasa.says("919810000204", "namaste ji", "greet", 0.4)  # already training data
    rasa.says("919810000205", "ram ram bhai", "greet", 0.4)  # a held-out test sentence

    trainer = dash.sign_in("asha")
    page = wait_listed(trainer, dash, "ram ram bhai")
    for words in (BIJLI, NAAM, "mera dl renew karna hai"):
        assert words in page
    assert "Namaste! How can I help you?" in page  # what the assistant had said before
    assert "driving_licence_renewal" in page and "CatalogueEntityExtractor" in page
    assert "0.88" in page and "0.59" in page

    def act(words: str, **form: str) -> requests.Response:
        current = trainer.get(f"{dash.url}/trainer", timeout=10).text
        data = {"csrf_token": csrf_of(current), **form}
        return trainer.post(f"{dash.url}/trainer/{item_id(current, words)}", data=data, timeout=10)

    # correct: bijli (electricity) bills are not a Delhi government service
    corrected = act(BIJLI, do="correct", intent="out_of_scope", service="", service_words="")
    assert corrected.status_code == 200 and "Saved" in corrected.text
    assert BIJLI not in corrected.text.split('id="inbox"')[1]
    # a wrong service-word span is refused with a message, nothing stored
    refused = act(NAAM, do="correct", intent="file_grievance", service="income_certificate",
                  service_words="birth certificate")  # fmt: skip
    assert refused.status_code == 400 and "Write the words of the message" in refused.text
    # correct the intent, name the service by its words
    act(NAAM, do="correct", intent="file_grievance", service="income_certificate",
        service_words="certificate")  # fmt: skip
    # confirm: one click
    act("mera dl renew karna hai", do="confirm")
    # greetings: one of them is not NLU data
    act("namaste ji", do="confirm")
    act("ram ram bhai", do="confirm")

    stored = {a.text: a for a in annotations(dash)}
    assert stored[BIJLI].verdict == "corrected" and stored[BIJLI].intent == "out_of_scope"
    assert stored[BIJLI].predicted_intent == "pay_fee" and stored[BIJLI].reasons == ["said_no"]
    at = NAAM.index("certificate")
    assert stored[NAAM].entities == [
        {"entity": "service", "value": "income_certificate", "start": at, "end": at + 11}
    ]
    assert stored["mera dl renew karna hai"].verdict == "confirmed"

    audited = audit_rows(dash, "nlu.annotate")
    assert len(audited) == 5
    bijli = next(a for a in audited if a.detail["intent"] == "out_of_scope")
    assert bijli.username == "asha" and bijli.detail["predicted"] == "pay_fee"
    assert all(BIJLI not in str(a.detail) for a in audited)  # no sentence in the audit log

    exported = trainer.get(f"{dash.url}/trainer/export/hinglish.yml", timeout=10)
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    data = RasaYAMLReader().reads(exported.text)
    got = {(m.get("text"), m.get("intent")) for m in data.intent_examples}
    assert got == {
        (BIJLI, "out_of_scope"),
        (NAAM, "file_grievance"),
        ("mera dl renew karna hai", "apply_service"),
    }  # not "namaste ji" (in data/nlu) nor "ram ram bhai" (a held-out test sentence)
    dl = next(m for m in data.intent_examples if m.get("text") == "mera dl renew karna hai")
    assert [(e["entity"], e["value"]) for e in dl.get("entities")] == [
        ("service", "driving_licence_renewal")
    ]
    assert MARKER in yaml.safe_load(exported.text)
    assert "1 already in data/nlu/, 1 test sentence(s) of bench/heldout/" in exported.text
    (export,) = audit_rows(dash, "nlu.export")
    assert export.subject == "hinglish" and export.detail["examples"] == 3

    # the done list; reopening puts a sentence back in the inbox
    done = trainer.get(f"{dash.url}/trainer?view=done", timeout=10).text
    assert done.count("data-annotation=") == 5
    annotation = next(a for a in annotations(dash) if a.text == BIJLI)
    reopened = trainer.post(
        f"{dash.url}/trainer/annotations/{annotation.id}/reopen",
        data={"csrf_token": csrf_of(done)},
        timeout=10,
    )
    assert reopened.status_code == 200 and "The annotation was removed" in reopened.text
    assert BIJLI not in reopened.text.split("<tbody>")[1]
    assert BIJLI in trainer.get(f"{dash.url}/trainer", timeout=10).text.split('id="inbox"')[1]
    assert len(audit_rows(dash, "nlu.reopen")) == 1


def test_annotations_of_an_erased_citizen_are_deleted(system: Any) -> None:
    dash, rasa, directory = system
    citizen = "919810000299"
    rasa.says(citizen, "mujhe apna pura data mitana hai jaldi", "erase_data", 0.41)
    trainer = dash.sign_in("asha")
    page = wait_listed(trainer, dash, "mujhe apna pura data mitana hai jaldi")
    item = item_id(page, "mujhe apna pura data mitana hai jaldi")
    trainer.post(
        f"{dash.url}/trainer/{item}",
        data={"csrf_token": csrf_of(page), "do": "confirm"},
        timeout=10,
    )
    assert any(a.text.startswith("mujhe apna pura") for a in annotations(dash))
    broker = SQLEventBroker(db=str(directory / "events.db"))
    with broker.engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": citizen})
    trainer.get(f"{dash.url}/trainer?view=done", timeout=10)
    assert not any(a.text.startswith("mujhe apna pura") for a in annotations(dash))
    assert audit_rows(dash, "nlu.erased")


# --------------------------------------------------------------------------- texts


def test_every_template_text_exists_in_both_languages_once() -> None:
    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: Strict, node: yaml.MappingNode) -> dict[Any, Any]:
        keys = [loader.construct_object(k) for k, _ in node.value]
        duplicated = {k for k in keys if keys.count(k) > 1}
        assert not duplicated, f"messages.yml defines {duplicated} twice"
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    messages = yaml.load((ROOT / "dashboard" / "messages.yml").read_text(), Loader=Strict)  # noqa: S506
    used: set[str] = set()
    for template in (ROOT / "dashboard" / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_.]*[a-z_])["']""", template.read_text()))
    # and the keys templates build: t("nav." ~ page), t("role." ~ role), ...
    used |= {f"nav.{page}" for page in PAGE_ROLES} | {f"role.{role}" for role in ROLES}
    used |= {f"reason.{r}" for r in REASONS} | {f"verdict.{v}" for v in VERDICTS}
    used |= {f"language.{code}" for code in ("hi", "en", "hinglish", "unknown")}
    assert used - set(messages) == set()
    for key, texts in messages.items():
        assert set(texts) == {"en", "hi"}, key
        assert any("\u0900" <= c <= "\u097f" for c in texts["hi"]) or key == "js.seconds", key
