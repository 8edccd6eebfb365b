"""Realistic traffic for the load benchmark: scripted citizens doing whole journeys.

Each journey is what a citizen really does, in their language, through the emulator's
simulator API (as the phone simulator of `make run` does): greet and consent, apply for
an income certificate (every form turn, a real-sized camera photo and three WhatsApp
photos, the summary, submit), pay on the payment page, check the status, file and follow
a grievance, download an approved certificate, ask free questions, and chit-chat.

    JOURNEYS   the scripts and their shares of the citizens (see bench/README.md)
    Traffic    starts citizens at a message rate, runs their journeys, and keeps, per
               turn type, the latency from the message handed to the emulator to the
               channel having finished it (every reply of the turn sent by then)

A turn is over when the channel's inbox row for the message is ``done`` (the journey
tests use the same signal): one watcher polls the channel database every 50 ms for all
citizens at once, so the benchmark does not add a query per citizen. A turn not done
within ``TURN_TIMEOUT`` is lost; replies are counted once more at the end against the
channel's record of what it sent (``duplicated``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import sqlalchemy as sa

from service_catalogue.validation import verhoeff_valid
from tests.journeys.files import _photo, camera_jpeg
from tests.journeys.phone import Reply, to_reply

TURN_TIMEOUT = 120.0
APPLICATION_ID = re.compile(r"APP-\d{4}-\d{6}")
PAY_LINK = re.compile(r"https?://\S+/pay/\S+")
GRIEVANCE_ID = re.compile(r"GRV-\d{4}-\d{6}")


@dataclass(frozen=True)
class Step:
    """One thing a citizen does. ``kind``: say, tap, photo, pay, approve.

    ``turn`` names the turn type in the report; ``expect`` is text one of the replies
    must contain (else the journey stops and counts as a script error).
    """

    kind: str
    arg: str = ""
    turn: str = ""
    expect: str = ""


def say(text: str, turn: str, expect: str = "") -> Step:
    return Step("say", text, turn, expect)


def tap(title: str, turn: str, expect: str = "") -> Step:
    return Step("tap", title, turn, expect)


def photo(size: str) -> Step:
    return Step("photo", size, "upload")


PAY = Step("pay", turn="pay (web page)")
APPROVE = Step("approve")  # an officer verifies and approves (backends API, not a turn)

INCOME = {
    "en": [
        say("Hi", "greet"),
        tap("Yes, I agree", "consent"),
        say("I want to apply for an income certificate", "apply", "name"),
        say("Sunita Devi", "form"),
        say("Rameshwar Prasad", "form"),
        say("House 12, Gali 4, Laxmi Nagar, Delhi", "form"),
        say("110092", "form"),
        say("one lakh fifty thousand a year", "form", "₹1,50,000"),
        tap("Salary", "form"),
        tap("Scholarship", "form", "Identity proof"),
    ],
    "hi": [
        say("नमस्ते", "greet"),
        tap("हाँ", "consent"),
        say("मुझे आय प्रमाण पत्र चाहिए", "apply"),
        say("सुनीता देवी", "form"),
        say("रामेश्वर प्रसाद", "form"),
        say("मकान 12, गली 4, लक्ष्मी नगर, दिल्ली", "form"),
        say("110092", "form"),
        say("डेढ़ लाख रुपये सालाना", "form", "₹1,50,000"),
        tap("वेतन", "form"),
        tap("छात्रवृत्ति", "form", "पहचान का प्रमाण"),
    ],
    "hinglish": [
        say("namaste ji", "greet"),
        tap("हाँ", "consent"),
        say("income certificate banwana hai", "apply"),
        say("Sunita Devi", "form"),
        say("Rameshwar Prasad", "form"),
        say("Makan 12, Gali 4, Laxmi Nagar, Delhi", "form"),
        say("110092", "form"),
        say("dedh lakh saalana", "form", "₹1,50,000"),
        tap("वेतन", "form"),
        say("scholarship ke liye", "form", "पहचान का प्रमाण"),
    ],
}
SUBMIT = {"en": "Submit", "hi": "जमा करें", "hinglish": "जमा करें"}
DOCUMENTS = [photo("camera"), photo("whatsapp"), photo("whatsapp"), photo("whatsapp")]
STATUS = {
    "en": "is my application approved yet?",
    "hi": "मेरा आवेदन कहाँ तक पहुँचा",
    "hinglish": "mere application ka status batao",
}
DOWNLOAD = {
    "en": "download my licence please",
    "hi": "प्रमाण पत्र डाउनलोड करना है",
    "hinglish": "certificate download karna hai",
}


def apply_income(language: str) -> list[Step]:
    """Income certificate: a free service (no payment)."""
    return [*INCOME[language], *DOCUMENTS, tap(SUBMIT[language], "submit", "APP-")]


# A valid (Verhoeff) Aadhaar number; the channel masks it before anything stores it.
AADHAAR = next(f"23456789012{d}" for d in "0123456789" if verhoeff_valid(f"23456789012{d}"))
LEARNER = {
    "hi": [
        say("नमस्ते", "greet"),
        tap("हाँ", "consent"),
        say("मुझे लर्नर लाइसेंस बनवाना है", "apply", "आवेदक का पूरा नाम"),
        say("राजेश कुमार शर्मा", "form"),
        say("श्रीकृष्ण प्रसाद", "form"),
        say("12/03/1995", "form"),
        tap("पुरुष", "form"),
        tap("स्कूटर", "form"),
        say("मकान नं. 12, गली नं. 3, लक्ष्मी नगर, दिल्ली", "form"),
        say(AADHAAR, "form", "पते का प्रमाण"),
    ],
    "en": [
        say("hello", "greet"),
        tap("Yes, I agree", "consent"),
        say("I want to apply for a learner licence", "apply", "full name"),
        say("Rajesh Kumar Sharma", "form"),
        say("Shrikrishna Prasad", "form"),
        say("12/03/1995", "form"),
        tap("Male", "form"),
        tap("Scooter", "form"),
        say("House 12, Gali 3, Laxmi Nagar, Delhi", "form"),
        say(AADHAAR, "form", "Address proof"),
    ],
    "hinglish": [
        say("namaste", "greet"),
        tap("हाँ", "consent"),
        say("kaccha license banwana hai", "apply", "आवेदक का पूरा नाम"),
        say("Rajesh Kumar Sharma", "form"),
        say("Shrikrishna Prasad", "form"),
        say("12/03/1995", "form"),
        tap("पुरुष", "form"),
        tap("स्कूटर", "form"),
        say("Makan 12, Gali 3, Laxmi Nagar, Delhi", "form"),
        say(AADHAAR, "form", "पते का प्रमाण"),
    ],
}


def apply_learner(language: str) -> list[Step]:
    """Learner licence: ₹200, paid on the payment page the chat links to."""
    return [*LEARNER[language], *DOCUMENTS, tap(SUBMIT[language], "submit", "APP-"), PAY]


GRIEVANCE = [
    say("namaste ji", "greet"),
    say("haan", "consent"),
    say("mere gali me 3 din se pani nahi aa raha, shikayat karni hai", "grievance"),
    tap("पानी की आपूर्ति", "grievance"),
    say("Gali 4 me 3 din se nal me pani nahi aa raha, tanker bhi nahi aaya", "grievance"),
    say("Gali 4, Shakarpur, Delhi 110092", "grievance", "GRV-"),
    say("meri shikayat ka kya hua", "status", "GRV-"),
]
GRIEVANCE_EN = [
    say("Hi", "greet"),
    tap("Yes, I agree", "consent"),
    say("I want to complain about a street light", "grievance"),
    tap("Street light", "grievance"),
    say("The street light outside house 12 has been off for a week", "grievance"),
    say("Lajpat Nagar II, near the park", "grievance", "GRV-"),
    say("what happened to my complaint?", "status", "GRV-"),
]
QUESTIONS = [
    say("Hi", "greet"),
    tap("Yes, I agree", "consent"),
    say("my driving licence is lost, what should I do?", "question"),
    say("how long will it take?", "question"),
    say("and the fee?", "question"),
    say("pension ke liye income limit kitni hai?", "question"),
    say("शादी का रजिस्ट्रेशन कितने दिन में होता है और कहाँ जाना पड़ेगा?", "question"),
    say("CSC centre near Seelampur?", "question"),
]
CHITCHAT_TURNS = [
    say("Hi", "greet"),
    tap("Yes, I agree", "consent"),
    say("are you a bot?", "chit-chat"),
    say("thank you so much", "chit-chat"),
    say("shukriya bhai", "chit-chat"),
    say("bye", "chit-chat"),
]


@dataclass(frozen=True)
class Journey:
    name: str
    share: float  # of the citizens started
    steps: list[Step]


def _languages(name: str, share: float, build: Callable[[str], list[Step]]) -> list[Journey]:
    return [
        Journey(f"{name} ({language})", share / 3, build(language))
        for language in ("hi", "en", "hinglish")
    ]


CHITCHAT = CHITCHAT_TURNS


# Shares of citizens, not of messages; the messages each journey sends are in the report.
JOURNEYS: list[Journey] = [
    *_languages("income certificate (free)", 0.15, apply_income),
    *_languages("learner licence, pay", 0.15, apply_learner),
    *_languages(
        "learner licence, pay, status",
        0.10,
        lambda lang: [*apply_learner(lang), say(STATUS[lang], "status", "APP-")],
    ),
    *_languages(
        "learner licence, pay, approved, download",
        0.10,
        lambda lang: [*apply_learner(lang), APPROVE, say(DOWNLOAD[lang], "download", "%document")],
    ),
    Journey("grievance + status (hinglish)", 0.10, GRIEVANCE),
    Journey("grievance + status (en)", 0.05, GRIEVANCE_EN),
    Journey("free questions", 0.25, QUESTIONS),
    Journey("chit-chat", 0.10, CHITCHAT),
]


# The same citizens without what Rasa's stock REST channel cannot carry (photos, the
# payment page, an officer's approval): every form turn up to the first document, the
# grievances, the questions and the chit-chat. For the ratio against the REST channel.
TEXT_JOURNEYS: list[Journey] = [
    *_languages("income certificate form (text)", 0.15, lambda lang: INCOME[lang]),
    *_languages("learner licence form (text)", 0.35, lambda lang: LEARNER[lang]),
    Journey("grievance + status (hinglish)", 0.10, GRIEVANCE),
    Journey("grievance + status (en)", 0.05, GRIEVANCE_EN),
    Journey("free questions", 0.25, QUESTIONS),
    Journey("chit-chat", 0.10, CHITCHAT),
]


def whatsapp_photo(seed: int) -> bytes:
    """A photo as WhatsApp sends it by default (resized and recompressed, ~200-400 KB)."""
    out = io.BytesIO()
    _photo(1600, 1200, seed).save(out, "JPEG", quality=70)
    return out.getvalue()


# ------------------------------------------------------------------------------ watching
class InboxWatcher:
    """Resolves a future when the channel has finished a message (inbox row done)."""

    def __init__(self, db_url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.engine = sa.create_engine(db_url)
        self.loop = loop
        self.waiting: dict[str, asyncio.Future[str]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.queries = 0

    def __enter__(self) -> InboxWatcher:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        self.thread.join(5)
        self.engine.dispose()

    def wait(self, wamid: str) -> asyncio.Future[str]:
        future: asyncio.Future[str] = self.loop.create_future()
        with self.lock:
            self.waiting[wamid] = future
        return future

    def _poll(self) -> None:
        query = sa.text(
            "SELECT message_id, state FROM whatsapp_inbox "
            "WHERE message_id IN :ids AND state IN ('done', 'failed')"
        ).bindparams(sa.bindparam("ids", expanding=True))
        while not self.stop.wait(0.05):
            with self.lock:
                ids = list(self.waiting)
            for start in range(0, len(ids), 500):
                try:
                    with self.engine.connect() as db:
                        rows = db.execute(query, {"ids": ids[start : start + 500]}).fetchall()
                except sa.exc.OperationalError:  # not created yet, or busy
                    continue
                self.queries += 1
                for message_id, state in rows:
                    with self.lock:
                        future = self.waiting.pop(message_id, None)
                    if future is not None:
                        self.loop.call_soon_threadsafe(_settle, future, state)


def _settle(future: asyncio.Future[str], state: str) -> None:
    if not future.done():
        future.set_result(state)


# ------------------------------------------------------------------------------- results
@dataclass
class Results:
    turns: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sent: int = 0
    lost: int = 0
    failed: int = 0
    script_errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    journeys_done: Counter[str] = field(default_factory=Counter)
    journeys_started: Counter[str] = field(default_factory=Counter)
    first_sent: float = 0.0
    last_done: float = 0.0

    def completed(self) -> int:
        return sum(len(v) for k, v in self.turns.items() if not k.startswith("pay"))

    def messages_per_second(self) -> float:
        span = self.last_done - self.first_sent
        return self.completed() / span if span > 0 else 0.0

    def script_error(self, journey: str, message: str) -> None:
        self.script_errors[journey] += 1
        if len(self.error_examples) < 6:
            self.error_examples.append(f"{journey}: {message}")


# ------------------------------------------------------------------------------ citizens
class Phone:
    """One citizen's phone on the emulator's simulator API (async)."""

    def __init__(self, traffic: Traffic, wa_id: str, journey: str) -> None:
        self.traffic = traffic
        self.wa_id = wa_id
        self.journey = journey
        self.after = 0
        self.seen: list[Reply] = []

    async def send(self, message: dict[str, Any], turn: str) -> list[Reply]:
        t = self.traffic
        body = {"from": self.wa_id, "to": t.number, "name": "Load Citizen", **message}
        started = time.monotonic()
        t.results.first_sent = t.results.first_sent or started
        async with t.session.post(f"{t.emulator_url}/simulator/send", json=body) as answer:
            answer.raise_for_status()
            wamid = str((await answer.json())["message_id"])
        t.results.sent += 1
        try:
            state = await asyncio.wait_for(t.watcher.wait(wamid), TURN_TIMEOUT)
        except asyncio.TimeoutError:
            t.results.lost += 1
            raise
        finished = time.monotonic()
        if state == "failed":
            t.results.failed += 1
        t.results.turns[turn].append(finished - started)
        t.results.last_done = max(t.results.last_done, finished)
        params = {"wa_id": self.wa_id, "phone_number_id": t.number, "after": str(self.after)}
        async with t.session.get(f"{t.emulator_url}/simulator/conversation", params=params) as r:
            entries = (await r.json())["messages"]
        replies = [to_reply(e, t.emulator_url) for e in entries if e["direction"] == "out"]
        self.after = max([self.after, *(int(e["seq"]) for e in entries)])
        self.seen.extend(replies)
        return replies

    def option(self, title: str) -> tuple[str, str, str]:
        offered = next((r for r in reversed(self.seen) if r.options), None)
        if offered is None:
            raise ScriptError(f"nothing to tap for {title!r}")
        wanted = title.casefold()
        for test in (
            lambda t: t.casefold() == wanted,
            lambda t: t.casefold().startswith(wanted),
            lambda t: wanted in t.casefold(),
        ):
            found = [o for o in offered.options if test(o[2])]
            if len(found) == 1:
                return found[0]
        raise ScriptError(f"no option {title!r} in {[o[2] for o in offered.options]}")

    def text(self) -> str:
        return "\n".join(r.text for r in self.seen)


class RestPhone(Phone):
    """The same citizen on Rasa's stock REST channel: the replies come in the response."""

    async def send(self, message: dict[str, Any], turn: str) -> list[Reply]:
        t = self.traffic
        # a tap is sent as its title, typed: the assistant obeys a "/intent" payload only
        # from a channel that vouches for it (ours), never as text (issue 11, defect 14)
        text = message.get("reply_title") if message["type"] == "payload" else message["text"]
        body = {"sender": f"rest{self.wa_id}", "message": text}
        started = time.monotonic()
        t.results.first_sent = t.results.first_sent or started
        t.results.sent += 1
        try:
            async with t.session.post(f"{t.rest_url}/webhooks/rest/webhook", json=body) as r:
                r.raise_for_status()
                answer = await r.json(content_type=None)
        except (asyncio.TimeoutError, aiohttp.ClientError):
            t.results.lost += 1
            raise
        finished = time.monotonic()
        t.results.turns[turn].append(finished - started)
        t.results.last_done = max(t.results.last_done, finished)
        replies = []
        for i, item in enumerate(answer or []):
            buttons = item.get("buttons") or []
            replies.append(
                Reply(
                    seq=self.after + i + 1,
                    kind="buttons" if buttons else "text",
                    text=str(item.get("text") or ""),
                    buttons=[str(b.get("title")) for b in buttons],
                    rows=[],
                    options=[
                        ("payload", str(b.get("payload")), str(b.get("title"))) for b in buttons
                    ],
                    raw=item,
                    media_id=None,
                    emulator_url="",
                    phone_number_id="",
                )
            )
        self.after += len(replies)
        self.seen.extend(replies)
        return replies


class ScriptError(Exception):
    """The bot said something the script did not expect (counted, journey stopped)."""


class Traffic:
    """Runs journeys against one system: ``await traffic.run(rate, seconds)``."""

    def __init__(
        self,
        emulator_url: str,
        channel_db_url: str,
        backend: Any,
        journeys: list[Journey],
        number: str = "100001",
        think: tuple[float, float] = (0.5, 2.0),
        seed: int = 7,
        prefix: str = "9197",
        rest_url: str = "",
    ) -> None:
        self.emulator_url = emulator_url
        self.channel_db_url = channel_db_url
        self.backend = backend
        self.journeys = journeys
        self.number = number
        self.think = think
        self.random = random.Random(seed)  # noqa: S311 (a reproducible mix)
        self.prefix = prefix
        self.rest_url = rest_url  # set: Rasa's stock REST channel instead of WhatsApp
        self.results = Results()
        self.media: dict[str, bytes] = {
            "camera": camera_jpeg(seed=41),
            **{f"whatsapp{i}": whatsapp_photo(50 + i) for i in range(3)},
        }
        self.session: aiohttp.ClientSession
        self.watcher: InboxWatcher

    def mean_turns(self) -> float:
        total = sum(j.share for j in self.journeys)
        return sum(j.share * _turns(j) for j in self.journeys) / total

    async def run(self, rate: float, seconds: float, progress: Any = None) -> Results:
        """Starts citizens so that their messages arrive at about ``rate`` per second."""
        arrivals = rate / self.mean_turns()
        count = max(1, int(arrivals * seconds))
        weights = [j.share for j in self.journeys]
        chosen = self.random.choices(self.journeys, weights, k=count)
        timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT)
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(timeout=timeout) as self.session:
            with contextlib.ExitStack() as stack:
                if not self.rest_url:  # the REST channel answers in the response itself
                    self.watcher = stack.enter_context(InboxWatcher(self.channel_db_url, loop))
                start = time.monotonic()
                tasks = []
                for i, journey in enumerate(chosen):
                    delay = start + i / arrivals - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    wa_id = f"{self.prefix}{i:08d}"
                    tasks.append(asyncio.create_task(self.citizen(wa_id, journey, progress)))
                await asyncio.gather(*tasks)
        return self.results

    async def citizen(self, wa_id: str, journey: Journey, progress: Any) -> None:
        phone = (RestPhone if self.rest_url else Phone)(self, wa_id, journey.name)
        self.results.journeys_started[journey.name] += 1
        think = random.Random(wa_id)  # noqa: S311
        try:
            for step in journey.steps:
                await self.do(phone, step)
                if progress is not None and step.turn and not step.turn.startswith("pay"):
                    progress.update(1)
                await asyncio.sleep(think.uniform(*self.think))
        except ScriptError as error:
            self.results.script_error(journey.name, str(error))
            return
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            self.results.script_error(journey.name, f"{type(error).__name__} {error}")
            return
        self.results.journeys_done[journey.name] += 1

    async def do(self, phone: Phone, step: Step) -> None:
        if step.kind == "say":
            replies = await phone.send({"type": "text", "text": step.arg}, step.turn)
        elif step.kind == "tap":
            kind, reply_id, title = phone.option(step.arg)
            message = {"type": kind, "reply_id": reply_id, "reply_title": title}
            replies = await phone.send(message, step.turn)
        elif step.kind == "photo":
            name = step.arg if step.arg == "camera" else f"whatsapp{self.random.randrange(3)}"
            media_id = await self.upload(self.media[name])
            replies = await phone.send({"type": "image", "media_id": media_id}, step.turn)
        elif step.kind == "pay":
            await self.pay(phone)
            return
        elif step.kind == "approve":
            await self.approve(phone)
            return
        else:
            raise ValueError(step.kind)
        if not replies:
            raise ScriptError(f"no reply to {step.arg!r}")
        said = "\n".join(r.text for r in replies)
        if step.expect == "%document":
            if not any(r.kind == "document" for r in replies):
                raise ScriptError(f"no document after {step.arg!r}: {said[:160]!r}")
        elif step.expect and step.expect not in said:
            raise ScriptError(f"{step.expect!r} not in the reply to {step.arg!r}: {said[:160]!r}")

    async def upload(self, data: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("file", data, filename="IMG_20261207.jpg", content_type="image/jpeg")
        async with self.session.post(f"{self.emulator_url}/simulator/upload", data=form) as r:
            r.raise_for_status()
            return str((await r.json())["media_id"])

    async def pay(self, phone: Phone) -> None:
        """Opens the payment link from the chat and pays (the sandbox's success)."""
        links = PAY_LINK.findall(phone.text())
        if not links:
            raise ScriptError("no payment link in the chat")
        started = time.monotonic()
        async with self.session.post(links[-1], data={"outcome": "success"}) as answer:
            if answer.status != 200:
                raise ScriptError(f"payment page answered {answer.status}")
        self.results.turns[PAY.turn].append(time.monotonic() - started)

    async def approve(self, phone: Phone) -> None:
        """An officer verifies and approves once the payment has submitted it."""
        found = APPLICATION_ID.findall(phone.text())
        if not found:
            raise ScriptError("no application id in the chat")
        url = f"{self.backend.url}/edistrict/applications/{found[-1]}"
        headers = self.backend.officer()
        deadline = time.monotonic() + TURN_TIMEOUT
        while True:
            async with self.session.get(url, headers=headers) as answer:
                status = (await answer.json()).get("status")
            if status == "submitted":
                break
            if time.monotonic() > deadline:
                raise ScriptError(f"application never submitted (status {status})")
            await asyncio.sleep(0.5)
        for action in ("verify", "approve"):
            async with self.session.post(
                f"{url}/actions", json={"action": action}, headers=headers
            ) as answer:
                if answer.status != 200:
                    raise ScriptError(f"officer {action}: {answer.status}")


def _turns(journey: Journey) -> int:
    return sum(1 for s in journey.steps if s.kind in ("say", "tap", "photo"))
