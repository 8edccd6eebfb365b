"""Fault injection: Rasa is SIGKILLed at each step of a turn (and PostgreSQL and Redis
restart under it), and the citizen still gets every reply once, the backend makes one
payment order, the tracker and the event broker hold one turn.

The whole system as `make run` wires it (emulator → our connector in Rasa → action
server → backends; SQLite), and the production profile (PostgreSQL tracker store, event
broker, channel and backends; Redis lock store), with Rasa started by this test so it
can be killed and started again on the same port and databases. The kill points are the
channel's (connectors/faults.py: inert unless ``WHATSAPP_KILL_AT`` is set): the test
arms one (a switch file) just before the citizen, who wrote "फीस भरनी है" and was shown
the privacy notice, taps "हाँ": that turn records the consent, makes the payment order
(``action_resume_request`` runs ``ActionPayFee``) and sends two replies. The process
kills itself at the point with SIGKILL, as the out-of-memory killer would, with no
clean-up; Rasa starts again, and the channel takes the message over once its claim has
had no heartbeat for ``WHATSAPP_STUCK_AFTER_SECONDS``. For a database or Redis fault the
process stops at the point instead, PostgreSQL or Redis restarts (or PostgreSQL stays
down while the turn goes on) and the process continues.

Per case: lost (the message never answered, or a reply missing), duplicated replies,
duplicated payment orders, duplicated turns in the tracker and the event broker, against
a control turn nobody disturbed. The table goes to ``results/fault-injection.md``. A
last case kills the process at every attempt (a message that kills whoever processes
it): it ends ``failed`` with one apology.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from scripts.phone_numbers import emulator_phone_numbers
from tests.journeys.phone import Citizen, Reply, to_reply
from tests.support.backends import SERVICE_TOKEN, Backend, running_backend
from tests.support.channel import INTERNAL_TOKEN
from tests.support.emulator import (
    APP_SECRET,
    TOKEN,
    VERIFY_TOKEN,
    Emulator,
    free_port,
    running_emulator,
)
from tests.support.processes import child_process, wait_ready
from tests.support.services import (
    Postgres,
    ensure_installed,
    private_postgres,
    production_env,
    wait_for_port,
)
from tests.support.stack import MODEL

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "fault-injection.md"
POINTS = [
    "after_store",
    "after_parse",
    # the citizen's consent resumes the remembered request: action_resume_request runs
    # ActionPayFee, which creates the payment order
    "after_action:action_resume_request",
    "after_send",
    "before_save",
    "after_save",
]
# (fault, point) on the production profile, besides a SIGKILL at every point
# (grouped by point: Rasa restarts only when the point changes)
SERVICE_FAULTS = [
    ("postgres-restart", "after_parse"),
    ("redis-restart", "after_parse"),
    ("postgres-restart", "after_send"),
    ("postgres-down", "after_send"),
    ("postgres-restart", "before_save"),
    ("postgres-down", "before_save"),
    ("redis-restart", "before_save"),
]
PAY = "फीस भरनी है"
LEARNER = {  # learner_licence: a fee to pay
    "applicant_name": "Ravi Kumar",
    "father_name": "Suresh Kumar",
    "date_of_birth": "1990-03-12",
    "gender": "male",
    "vehicle_class": "mcwg",
    "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    "aadhaar": "XXXX-XXXX-1234",
}
_sections: dict[str, str] = {}


class Redis:
    """A redis-server on a fixed loopback port that the test can restart."""

    def __init__(self, directory: Path) -> None:
        ensure_installed("redis-server")
        self.port = free_port()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with open(self.directory / "redis.log", "ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Rig:
    """Backends, emulator and action server kept running; Rasa started and killed."""

    directory: Path
    backend: Backend
    emulator: Emulator
    rasa_port: int
    env: dict[str, str]
    endpoints: Path
    urls: dict[str, str]  # channel, tracker, events, backends
    postgres: Postgres | None = None
    redis: Redis | None = None
    process: subprocess.Popen | None = None
    kill_at: str | None = None
    starts: int = 0
    engines: dict[str, sa.engine.Engine] = field(default_factory=dict)

    @property
    def switch(self) -> Path:
        return self.directory / "kill-switch"

    def rasa(self, kill_at: str | None) -> None:
        """A Rasa process armed for ``kill_at`` (the running one if it already is)."""
        if self.process is not None and self.process.poll() is None:
            if self.kill_at == kill_at:
                return
            self.stop()
        self.starts += 1
        log = self.directory / f"rasa-{self.starts}.log"
        env = {**self.env, "WHATSAPP_KILL_AT": kill_at or "", "WHATSAPP_KILL_SWITCH": ""}
        if kill_at:
            env["WHATSAPP_KILL_SWITCH"] = str(self.switch)
        command = [str(Path(sys.executable).parent / "rasa"), "run", "--model", str(MODEL)]
        command += ["--port", str(self.rasa_port), "--credentials", str(ROOT / "credentials.yml")]
        command += ["--endpoints", str(self.endpoints)]
        with open(log, "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - this project's command
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.kill_at = kill_at
        url = f"http://127.0.0.1:{self.rasa_port}/webhooks/whatsapp/"
        wait_ready(url, self.process, log, "rasa", seconds=300)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def died(self, seconds: float = 180) -> bool:
        """Whether Rasa killed itself (SIGKILL) within ``seconds``."""
        assert self.process is not None
        try:
            return self.process.wait(seconds) == -9
        except subprocess.TimeoutExpired:
            return False

    def paused(self, seconds: float = 180) -> bool:
        marker = Path(f"{self.switch}.paused")
        deadline = time.monotonic() + seconds
        while not marker.exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def resume(self) -> None:
        Path(f"{self.switch}.paused").unlink(missing_ok=True)

    def phone(self, wa_id: str) -> Citizen:
        system = SimpleNamespace(emulator=self.emulator, whatsapp_db=self.directory / "-")
        phone = Citizen(system, wa_id=wa_id)
        phone.name = "Asha Devi"

        def wait_turn(wamid: str, started: float) -> None:
            assert self.wait_processed(wamid, 90) in ("done", "failed"), wamid

        phone._wait_turn = wait_turn  # type: ignore[method-assign]
        return phone

    def query(self, database: str, statement: str, **params: Any) -> Any:
        """The first column of the first row (None if none, or if the database is away)."""
        engine = self.engines.get(database)
        if engine is None:
            engine = self.engines[database] = sa.create_engine(
                self.urls[database], pool_pre_ping=True
            )
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            with engine.connect() as connection:
                row = connection.execute(sa.text(statement), params).first()
                return row[0] if row else None
        return None

    def inbox(self, wamid: str) -> tuple[str | None, int]:
        state = self.query(
            "channel", "SELECT state FROM whatsapp_inbox WHERE message_id=:m", m=wamid
        )
        attempts = self.query(
            "channel", "SELECT attempts FROM whatsapp_inbox WHERE message_id=:m", m=wamid
        )
        return state, int(attempts or 0)

    def wait_processed(self, wamid: str, seconds: float = 240) -> str | None:
        deadline = time.monotonic() + seconds
        state: str | None = None
        while time.monotonic() < deadline:
            state = self.inbox(wamid)[0]
            if state in ("done", "failed"):
                return state
            time.sleep(0.2)
        return state

    def orders(self, application_id: str) -> int:
        statement = "SELECT count(*) FROM payment_orders WHERE application_id=:a"
        return int(self.query("backends", statement, a=application_id) or 0)

    def turns(self, wamid: str) -> tuple[int, int]:
        """The citizen's message as a turn: in the tracker store, in the event broker."""
        like = f'%"message_id": "{wamid}"%'
        tracker = self.query(
            "tracker", "SELECT count(*) FROM events WHERE type_name='user' AND data LIKE :l", l=like
        )
        broker = self.query(
            "events",
            'SELECT count(*) FROM events WHERE data LIKE :l AND data LIKE \'%"event": "user"%\'',
            l=like,
        )
        return int(tracker or 0), int(broker or 0)


@contextlib.contextmanager
def running_rig(directory: Path, production: bool) -> Iterator[Rig]:
    rasa_port, actions_port, emulator_port = free_port(), free_port(), free_port()
    webhook = f"http://127.0.0.1:{rasa_port}/webhooks/whatsapp/webhook"
    channel = webhook.replace("/webhook", "/internal")
    wiring = {"CHANNEL_URL": channel, "WHATSAPP_INTERNAL_TOKEN": INTERNAL_TOKEN}
    base = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    with contextlib.ExitStack() as stack:
        postgres, redis, prod = None, None, {}
        urls = {
            "channel": f"sqlite:///{directory / 'whatsapp.db'}",
            "tracker": f"sqlite:///{directory / 'tracker.db'}",
            "events": f"sqlite:///{directory / 'events.db'}",
        }
        endpoints = directory / "endpoints.yml"
        if production:
            postgres = stack.enter_context(private_postgres())
            redis = Redis(directory / "redis")
            stack.callback(redis.stop)
            # short lifetimes: a killed process's lock and claim run out in seconds
            prod = production_env(
                postgres,
                f"redis://127.0.0.1:{redis.port}/0",
                TICKET_LOCK_LIFETIME="2",
                WHATSAPP_STUCK_AFTER_SECONDS="4",
            )
            urls = {
                "channel": prod["WHATSAPP_DB_URL"],
                "tracker": postgres.url("tracker"),
                "events": postgres.url("events"),
            }
            endpoints = ROOT / "endpoints.prod.yml"
        backend_env = {**wiring}
        if production:
            backend_env["BACKENDS_DB_URL"] = prod["BACKENDS_DB_URL"]
        backend = stack.enter_context(running_backend(directory / "backends", **backend_env))
        urls["backends"] = backend.db_url
        emulator = stack.enter_context(
            running_emulator(
                directory / "emulator",
                EMULATOR_PORT=str(emulator_port),
                WEBHOOK_URL=webhook,
                PHONE_NUMBERS=emulator_phone_numbers(),
            )
        )
        actions_env = {
            **base,
            **wiring,
            "EDISTRICT_URL": backend.url,
            "PAYMENTS_URL": backend.url,
            "GRIEVANCE_URL": backend.url,
            "BACKENDS_SERVICE_TOKEN": SERVICE_TOKEN,
            "SANIC_HOST": "127.0.0.1",
            "ACTIONS_PORT": str(actions_port),
        }
        command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions"]
        command += ["--port", str(actions_port)]
        if production:
            command = [sys.executable, "-m", "ops.actions_server"]
        stack.enter_context(
            child_process(
                command,
                actions_env,
                directory / "actions.log",
                f"http://127.0.0.1:{actions_port}/health",
            )
        )
        endpoints_text = (
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            "  enable_selective_domain: true\n"
            f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {directory / 'tracker.db'}\n"
            "event_broker:\n  type: connectors.brokers.SQLEventBroker\n"
            f"  dialect: sqlite\n  db: {directory / 'events.db'}\n"
        )
        if not production:
            endpoints.write_text(endpoints_text)
        rasa_env = {
            **base,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_TOKEN": TOKEN,
            "WHATSAPP_GRAPH_URL": emulator.graph_url,
            "WHATSAPP_DB_URL": urls["channel"],
            "WHATSAPP_MEDIA_DIR": str(directory / "media"),
            "WHATSAPP_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "WHATSAPP_STUCK_AFTER_SECONDS": "3",
            **prod,
        }
        if production:
            rasa_env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
        rig = Rig(
            directory,
            backend,
            emulator,
            rasa_port,
            rasa_env,
            endpoints,
            urls,
            postgres=postgres,
            redis=redis,
        )
        try:
            yield rig
        finally:
            rig.stop()
            for engine in rig.engines.values():
                engine.dispose()


def pending_application(backend: Backend, citizen: str) -> str:
    """A learner licence of ``citizen`` waiting for its fee (made through the API)."""
    headers = backend.citizen(citizen)
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={"service_id": "learner_licence", "fields": LEARNER, "language": "hi"},
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    app_id = str(created.json()["application_id"])
    for doc in ("address_proof", "age_proof", "photo", "signature"):
        document = {
            "document_id": doc,
            "filename": f"{doc}.jpg",
            "mime_type": "image/jpeg",
            "size": 1000,
            "sha256": hashlib.sha256(doc.encode()).hexdigest(),
            "storage_ref": f"uploads/{doc}",
        }
        attached = requests.post(
            f"{backend.url}/edistrict/applications/{app_id}/documents",
            json=document,
            headers=headers,
            timeout=30,
        )
        assert attached.status_code == 201, attached.text
    submitted = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/submit",
        json={},
        headers=headers,
        timeout=30,
    )
    assert submitted.json()["status"] == "payment_pending", submitted.text
    return app_id


def normalised(replies: list[Reply]) -> list[str]:
    """A turn's replies without what differs between citizens (ids, links)."""
    out = []
    for reply in replies:
        text = re.sub(r"APP-\d{4}-\d{6}", "APP", reply.text)
        text = re.sub(r"https?://\S+", "URL", text)
        out.append(f"{reply.kind}:{text}")
    return out


@dataclass
class Outcome:
    case: str
    disturbed: bool
    state: str | None
    attempts: int
    replies: list[str]
    orders: int
    tracker_turns: int
    broker_turns: int
    seconds: float

    def figures(self, control: list[str]) -> dict[str, int]:
        missing = sum(max(0, control.count(r) - self.replies.count(r)) for r in set(control))
        extra = sum(max(0, self.replies.count(r) - control.count(r)) for r in set(self.replies))
        lost = int(self.state != "done" or missing > 0 or self.orders == 0)
        return {
            "lost": lost,
            "duplicated replies": extra,
            "duplicated orders": max(0, self.orders - 1),
            "duplicated turns": max(0, self.tracker_turns - 1) + max(0, self.broker_turns - 1),
        }


def sigkill(then: str | None) -> Callable[[Rig], bool]:
    def fault(rig: Rig) -> bool:
        killed = rig.died()
        rig.switch.unlink(missing_ok=True)
        rig.rasa(then)
        return killed

    return fault


def service_fault(kind: str) -> Callable[[Rig], bool]:
    """Rasa stopped at the point; PostgreSQL or Redis restarts (or PostgreSQL stays down
    while Rasa goes on for a while); then everything runs again."""

    def fault(rig: Rig) -> bool:
        if not rig.paused():
            return False
        assert rig.postgres is not None and rig.redis is not None
        if kind == "postgres-restart":
            rig.postgres.restart()
            rig.resume()
        elif kind == "redis-restart":
            rig.redis.restart()
            rig.resume()
        else:  # postgres-down: the rest of the turn meets no database
            rig.postgres.stop()
            rig.resume()
            time.sleep(4)
            rig.postgres.start()
        return True

    return fault


def pay_turn(
    rig: Rig,
    wa_id: str,
    case: str,
    point: str | None,
    fault: Callable[[Rig], bool] | None,
    switch: str = "1",
) -> Outcome:
    """A new citizen with a fee to pay asks to pay and taps consent; with ``point`` that
    turn is disturbed there by ``fault``."""
    rig.rasa(point)
    app_id = pending_application(rig.backend, wa_id)
    phone = rig.phone(wa_id)
    asked = phone.says(PAY)  # the privacy notice first; the request is remembered
    offered = next(r for r in reversed(asked) if r.options)
    kind, reply_id, title = phone._choose(offered, "हाँ")
    after = phone._last_seq()
    if point:
        rig.switch.write_text(switch)
    started = time.monotonic()
    wamid = rig.emulator.citizen_says(  # consent: recorded, then the fee's payment link
        wa_id=wa_id, to=phone.number, type=kind, reply_id=reply_id, reply_title=title
    )
    disturbed = fault(rig) if fault is not None else False
    state = rig.wait_processed(wamid)
    seconds = time.monotonic() - started
    time.sleep(1)  # a reply sent twice would be on its way by now
    replies = [to_reply(e, str(rig.emulator.url)) for e in rig.emulator.conversation(wa_id=wa_id)]
    turn = [r for r in replies if r.seq > after and r.raw["direction"] == "out"]
    tracker_turns, broker_turns = rig.turns(wamid)
    return Outcome(
        case=case,
        disturbed=disturbed,
        state=state,
        attempts=rig.inbox(wamid)[1],
        replies=normalised(turn),
        orders=rig.orders(app_id),
        tracker_turns=tracker_turns,
        broker_turns=broker_turns,
        seconds=seconds,
    )


def table(title: str, outcomes: list[Outcome], control: list[str], poison: dict) -> str:
    lines = [
        f"## {title}",
        "",
        f"Control turn (undisturbed): {len(control)} replies, 1 payment order.",
        "",
        "| case | fault happened | lost | duplicated replies | duplicated orders "
        "| duplicated turns (tracker + broker) | attempts | final state | answered after (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        f = outcome.figures(control)
        lines.append(
            f"| {outcome.case} | {'yes' if outcome.disturbed else 'no'} | {f['lost']} "
            f"| {f['duplicated replies']} | {f['duplicated orders']} | {f['duplicated turns']} "
            f"| {outcome.attempts} | {outcome.state} | {outcome.seconds:.1f} |"
        )
    if poison:
        lines += [
            "",
            "A message that kills every process that takes it (SIGKILL after parsing, at "
            f"every attempt): killed {poison['kills']} times, then {poison['state']} after "
            f"{poison['attempts']} claims; the citizen got {poison['apologies']} apology and "
            f"{poison['other']} other replies.",
        ]
    return "\n".join(lines) + "\n"


def write_report() -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# Fault injection: kill -9 and database restarts at each step of a turn\n\n"
        "`tests/test_fault_injection.py`. A citizen with a learner-licence fee due writes "
        f"“{PAY}”, is shown the privacy notice and taps “हाँ”: that turn records the consent, "
        "creates the payment order (`action_resume_request` runs `ActionPayFee`) and sends "
        "two replies. At the kill point (`connectors/faults.py`) Rasa SIGKILLs itself and "
        "is started again (the message is taken over when its claim has had no heartbeat "
        "for `WHATSAPP_STUCK_AFTER_SECONDS`), or stops while PostgreSQL or Redis restarts "
        "(or PostgreSQL is down for 4 s of the turn). Lost: not answered, or a reply "
        "missing; duplicated: against the undisturbed control turn.\n\n"
        + "\n".join(_sections[k] for k in sorted(_sections))
    )
    REPORT.write_text(text, encoding="utf-8")


def assert_clean(outcomes: list[Outcome], control: list[str]) -> None:
    for outcome in outcomes[1:]:
        assert outcome.disturbed, f"{outcome.case}: the fault never happened"
        figures = outcome.figures(control)
        assert figures == {
            "lost": 0,
            "duplicated replies": 0,
            "duplicated orders": 0,
            "duplicated turns": 0,
        }, (outcome.case, figures, outcome)


def sigkill_cases(
    rig: Rig, prefix: str, outcomes: list[Outcome], last: str | None = None
) -> list[str]:
    """The control turn, then a SIGKILL at every point; Rasa is started again armed for
    the next point (``last`` after the last one)."""
    first = pay_turn(rig, f"{prefix}0000001", "none (control)", None, None)
    outcomes.append(first)
    assert first.state == "done" and first.orders == 1 and first.replies, first
    assert any("URL" in r for r in first.replies), first.replies  # the payment link
    for number, point in enumerate(POINTS, start=2):
        following = POINTS[number - 1] if number - 1 < len(POINTS) else last
        outcome = pay_turn(
            rig, f"{prefix}{number:07d}", f"SIGKILL {point}", point, sigkill(following)
        )
        outcomes.append(outcome)
    return first.replies


@pytest.fixture
def sqlite_rig(tmp_path: Path) -> Iterator[Rig]:
    with running_rig(tmp_path, production=False) as rig:
        yield rig


@pytest.fixture
def production_rig(tmp_path: Path) -> Iterator[Rig]:
    with running_rig(tmp_path, production=True) as rig:
        yield rig


def test_sigkill_at_every_step_of_a_turn_loses_and_doubles_nothing(sqlite_rig: Rig) -> None:
    outcomes: list[Outcome] = []
    poison: dict[str, object] = {}
    control: list[str] = []
    try:
        control = sigkill_cases(sqlite_rig, "91966", outcomes, "after_parse")  # the poison
        poison = poisoned_message(sqlite_rig, "919669999999")
    finally:
        _sections["1"] = table("make run profile (SQLite)", outcomes, control, poison)
        write_report()
    assert_clean(outcomes, control)
    assert poison["state"] == "failed" and poison["apologies"] == 1, poison
    assert poison["other"] == 0, poison


@pytest.mark.soak
def test_production_profile_survives_kills_and_postgres_and_redis_restarts(
    production_rig: Rig,
) -> None:
    outcomes: list[Outcome] = []
    control: list[str] = []
    try:
        control = sigkill_cases(production_rig, "91967", outcomes, SERVICE_FAULTS[0][1])
        for number, (kind, point) in enumerate(SERVICE_FAULTS, start=len(POINTS) + 2):
            outcomes.append(
                pay_turn(
                    production_rig,
                    f"91967{number:07d}",
                    f"{kind} at {point}",
                    point,
                    service_fault(kind),
                    switch="pause",
                )
            )
    finally:
        title = "production profile (PostgreSQL, Redis lock store)"
        _sections["2"] = table(title, outcomes, control, {})
        write_report()
    assert_clean(outcomes, control)


def poisoned_message(rig: Rig, wa_id: str) -> dict[str, object]:
    """Rasa dies after parsing this message at every attempt: after MAX_ATTEMPTS claims
    the channel stops handing it to Rasa and apologises, once."""
    from connectors.whatsapp import APOLOGY, MAX_ATTEMPTS

    rig.rasa("after_parse")
    phone = rig.phone(wa_id)
    phone.says("नमस्ते")
    after = phone._last_seq()
    rig.switch.write_text("99")
    wamid = rig.emulator.citizen_says("मेरा स्टेटस बताओ", wa_id=wa_id, to=phone.number)
    kills = 0
    while kills < MAX_ATTEMPTS and rig.died(120):
        kills += 1
        rig.rasa("after_parse")
    rig.switch.unlink(missing_ok=True)
    state = rig.wait_processed(wamid, 120)
    time.sleep(1)
    out = [
        to_reply(e, str(rig.emulator.url))
        for e in rig.emulator.conversation(wa_id=wa_id)
        if e["direction"] == "out" and e["seq"] > after
    ]
    apologies = sum(APOLOGY.split("\n")[1] in r.text for r in out)
    return {
        "kills": kills,
        "state": state,
        "attempts": rig.inbox(wamid)[1],
        "apologies": apologies,
        "other": len(out) - apologies,
        "replies": json.dumps([r.text for r in out], ensure_ascii=False),
    }
