"""WhatsApp Cloud API channel for Rasa: safe intake, exactly-once turns, rich replies.

Intake (POST /webhooks/whatsapp/webhook):
1. the X-Hub-Signature-256 HMAC-SHA256 of the raw body is checked in constant time
   (401 otherwise); bodies over 3 MB are refused;
2. every message of the batch is stored in the channel's database, unique by its wamid,
   with every Aadhaar number in every string of it masked (``privacy.mask_tree``: text,
   caption, file name, location name and address, profile name), and statuses are
   recorded (never moving backwards) — only then is 200 answered;
3. a background worker per citizen claims that citizen's messages one at a time, oldest
   first (after a short window that lets a shuffled batch settle), and hands each to
   Rasa; different citizens run in parallel.

Exactly once, whatever dies when: the claim is a lease the worker renews while the turn
runs, so a long turn is never handed to a second worker, and only the current claim can
finish the message. A message whose process died is claimed again after
``stuck_after_seconds``; it is run again unless Rasa's tracker already holds its wamid
(the turn was saved), the replies the citizen already has are not sent again (each is
recorded under ``<wamid>:<n>``), and the actions derive their idempotency keys from the
wamid, so the backends create nothing twice. A message that fails, or kills its
process, ``MAX_ATTEMPTS`` times is answered with an apology, once, and ends ``failed``.
``connectors/faults.py`` holds the kill points the fault-injection test uses.

Button and list replies only act as payloads when the id is one this channel issued to
that citizen; files are fetched from the Graph media endpoint, checked (MIME allow-list,
magic bytes, size, sha256) and stored outside any web root before Rasa sees a
reference to them. A voice note, when a speech-to-text service is configured
(``ASR_URL``, ``connectors/asr.py``), is transcribed and shown back ("मैंने सुना: …")
with buttons; only the confirmed transcript reaches Rasa, as if typed. Audio without
that service, video and stickers, a refused file and a message that arrives too late to
act on are turned into payloads the dialogue answers in the citizen's language. Replies
go out from the number the citizen wrote to.

Every template message goes through the registry (``service_catalogue/templates.py``):
one that is not registered or has the wrong number of parameters is refused before it
reaches the Graph API. The internal API for the other services (notifications, delivery
statuses, erasure, officers' handoff) is in ``connectors/internal.py``; an erasure runs
in the citizen's worker, after the turn in progress, and while an officer has the
conversation the citizen's messages are recorded but the bot does not answer them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

import ops
from connectors import asr, conversation, faults, media, phone_numbers, rasa_patches
from connectors.asr import AsrSettings
from connectors.graph import OUTSIDE_WINDOW, DownloadError, GraphClient, SendResult
from connectors.store import BUTTON_TTL_SECONDS, ChannelStore, dumps
from connectors.whatsapp_format import (
    PAGE_PREFIX,
    STATUS_ORDER,
    Inbound,
    more_page_payloads,
    outbound_payloads,
    parse_webhook,
)
from privacy import mask_tree, redact_aadhaar
from service_catalogue.templates import Template, TemplateError, Templates, load_templates

logger = logging.getLogger(__name__)
rasa_patches.install()
faults.install_from_environment()

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 3 * 2**20
WINDOW_SECONDS = 24 * 3600
# A voice note's transcript, shown back as "I heard: …" (utter_voice_heard): the button
# that confirms it carries the transcript, which is then read as if the citizen typed it.
HEARD_PREFIX = "__heard__:"
SAY_AGAIN = "__say_again__"
# A download's failure as the dialogue explains it: a file cut short on the way is, to the
# citizen, a damaged file like one whose sha256 does not match ("send it again").
_UPLOAD_ERROR_FOR = {"truncated": "hash_mismatch"}
MAX_ATTEMPTS = 3
# seconds between tries to record a reply WhatsApp accepted (about a minute in all)
RECORD_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
# Sent only when the assistant itself cannot answer (Rasa failed three times): there is
# then no dialogue to render a reply, and silence is worse than this fixed text.
APOLOGY = (
    "क्षमा करें, अभी तकनीकी समस्या है। कृपया थोड़ी देर बाद फिर लिखें।\n"
    "Sorry, we have a technical problem right now. Please write again in a little while."
)


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ValueError(f"{name} must be set in the environment for the WhatsApp channel")
    return value


@dataclass
class Settings:
    app_secret: str
    verify_token: str
    access_token: str
    graph_url: str
    db_url: str
    media_dir: Path
    # phone_number_id -> department id ("" for the main number, which offers everything)
    numbers: dict[str, str] = field(default_factory=dict)
    stale_after_seconds: float = 3600.0
    reorder_window_seconds: float = 0.1
    rate_per_number: float = 80.0
    stuck_after_seconds: float = 300.0
    update_template: str = "service_update"
    # bearer of the internal API (connectors/internal.py); empty: the API refuses everyone
    internal_token: str = ""
    # the channel's clock (unix seconds): the 24-hour window and stale messages
    clock: Callable[[], float] = time.time
    # speech to text for voice notes (ASR_URL, connectors/asr.py); None: "please type"
    asr: AsrSettings | None = None

    @property
    def main_number(self) -> str:
        """The number that offers every service (department "")."""
        mains = [n for n, d in self.numbers.items() if not d]
        return mains[0] if mains else next(iter(self.numbers), "")

    def department_number(self, department: str) -> str | None:
        """The department's own number, if it has one."""
        return next((n for n, d in self.numbers.items() if department and d == department), None)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any]) -> Settings:
        # credentials.yml's (the emulator's) and WHATSAPP_PHONE_NUMBERS; in production
        # WHATSAPP_PHONE_NUMBERS only (connectors/phone_numbers.py)
        numbers = phone_numbers.configured(credentials)
        return cls(
            app_secret=_env("WHATSAPP_APP_SECRET"),
            verify_token=_env("WHATSAPP_VERIFY_TOKEN"),
            access_token=_env("WHATSAPP_TOKEN"),
            graph_url=os.environ.get("WHATSAPP_GRAPH_URL")
            or str(credentials.get("graph_url") or "https://graph.facebook.com/v21.0"),
            db_url=os.environ.get("WHATSAPP_DB_URL") or f"sqlite:///{ROOT / 'var' / 'whatsapp.db'}",
            media_dir=Path(os.environ.get("WHATSAPP_MEDIA_DIR") or ROOT / "var" / "media"),
            numbers=numbers,
            stale_after_seconds=float(
                os.environ.get("WHATSAPP_STALE_AFTER_SECONDS")
                or credentials.get("stale_after_seconds")
                or 3600
            ),
            reorder_window_seconds=float(
                os.environ.get("WHATSAPP_REORDER_WINDOW_SECONDS")
                or credentials.get("reorder_window_seconds")
                or 0.1
            ),
            rate_per_number=float(credentials.get("rate_per_number") or 80),
            stuck_after_seconds=float(
                os.environ.get("WHATSAPP_STUCK_AFTER_SECONDS")
                or credentials.get("stuck_after_seconds")
                or 300
            ),
            update_template=str(credentials.get("update_template") or "service_update"),
            internal_token=os.environ.get("WHATSAPP_INTERNAL_TOKEN", ""),
            asr=AsrSettings.from_environment(),
        )


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Meta's X-Hub-Signature-256: 'sha256=' + hex HMAC-SHA256 of the raw body."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def _row(message: Inbound) -> dict[str, Any]:
    """The inbox row of a message: every string of it with Aadhaar numbers masked."""
    body = mask_tree({**asdict(message), "text": message.text or ""})
    return {
        "message_id": message.message_id,
        "wa_id": message.wa_id,
        "phone_number_id": message.phone_number_id,
        "timestamp": int(message.timestamp),
        "body": dumps(body),
    }


def _script_language(text: str) -> str:
    return "hi" if any("\u0900" <= c <= "\u097f" for c in text) else "en"


@functools.lru_cache(maxsize=1)
def _domain() -> Domain:
    """domain.yml, for the channel's own replies when Rasa's agent is not there (the
    channel's unit tests) or its model predates them; otherwise the agent's domain."""
    return Domain.load(str(ROOT / "domain.yml"))


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = Settings.from_credentials(credentials or {})
        # production: refuse to start unless every number is real and ours
        phone_numbers.check_production(settings.numbers, settings.graph_url, settings.access_token)
        return cls(settings)

    def __init__(self, settings: Settings, templates: Templates | None = None) -> None:
        self.settings = settings
        self.store = ChannelStore(settings.db_url, subject_key=settings.app_secret.encode())
        self.graph = GraphClient(
            settings.graph_url, settings.access_token, settings.rate_per_number
        )
        self.templates = templates if templates is not None else load_templates()
        if not settings.internal_token:
            logger.warning("whatsapp.internal_api.disabled (WHATSAPP_INTERNAL_TOKEN unset)")
        # Rasa's sanic app (its ctx.agent: tracker and lock stores), known once it serves
        self.app: Any = None
        self._on_new_message: Callable[[UserMessage], Awaitable[Any]] | None = None
        self._erasures: set[str] = set()
        self._workers: dict[str, asyncio.Task] = {}
        self._background: set[asyncio.Task] = set()
        self._recovered = False

    @property
    def agent(self) -> Any:
        """Rasa's agent (tracker store, lock store, processor), once the server runs."""
        return getattr(getattr(self.app, "ctx", None), "agent", None)

    # --- intake ----------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        from connectors.internal import add_internal_routes

        webhook = Blueprint("whatsapp_webhook", __name__)
        self._on_new_message = on_new_message
        add_internal_routes(webhook, self)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode(), self.settings.verify_token.encode()
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            self.app = request.app
            return await self.receive(request.body or b"", request.headers, on_new_message)

        @webhook.listener("after_server_start")
        async def recover(app: Any, *_: Any) -> None:
            self.app = app
            self._recover_once(on_new_message)

        ops.install(webhook, "rasa", checks={"channel_store": self.store.reachable})
        return webhook

    async def receive(
        self,
        raw: bytes,
        headers: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        if len(raw) > MAX_BODY_BYTES:
            return response.text("too large", status=413)
        if not signature_valid(self.settings.app_secret, raw, headers.get("X-Hub-Signature-256")):
            logger.warning("whatsapp.webhook.bad_signature")
            return response.text("invalid signature", status=401)
        try:
            payload = json.loads(raw)
        except ValueError:
            logger.warning("whatsapp.webhook.not_json")
            return response.text("ok")  # signed by Meta but unreadable: a retry cannot help
        messages, updates = parse_webhook(payload)
        try:
            added = self.store.add_inbound([_row(m) for m in messages])
            if added:
                faults.kill_point("after_store")
            for message in messages:
                self.store.touch_contact(message.wa_id, message.phone_number_id, message.timestamp)
            for update in updates:
                self.store.record_status(
                    update.message_id,
                    update.recipient_id,
                    update.phone_number_id,
                    update.status,
                    STATUS_ORDER.get(update.status, 0),
                    int(update.errors[0].get("code", 0)) if update.errors else None,
                )
        except Exception:  # noqa: BLE001 - not stored means not acknowledged: Meta retries
            logger.exception("whatsapp.webhook.store_failed")
            return response.text("storage unavailable", status=503)
        self._recover_once(on_new_message)
        for wa_id in {row["wa_id"] for row in added}:
            self.schedule(wa_id, on_new_message)
        return response.text("ok")

    def _recover_once(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """After a restart: messages stored but not yet answered are processed now."""
        if self._recovered:
            return
        self._recovered = True
        task = asyncio.create_task(self._sweep(on_new_message))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _sweep(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Now and then: messages claimed by a process that died go back to the queue, and
        citizens with waiting messages (stored by any process) get a worker here."""
        while True:
            try:
                self.store.requeue_stuck(self.settings.stuck_after_seconds)
                self._erasures.update(self.store.pending_erasures())
                for wa_id in set(self.store.pending_citizens()) | self._erasures:
                    self.schedule(wa_id, on_new_message)
            except Exception:  # noqa: BLE001 - the database may be back at the next sweep
                logger.exception("whatsapp.sweep.failed")
            await asyncio.sleep(min(60.0, max(1.0, self.settings.stuck_after_seconds / 5)))

    def schedule_erasure(self, wa_id: str) -> None:
        """Erases the citizen's conversation after their current turn (at once if idle)."""
        self.store.request_erasure(wa_id)
        self._erasures.add(wa_id)
        if self._on_new_message is not None:
            self.schedule(wa_id, self._on_new_message)

    def schedule(self, wa_id: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if wa_id in self._workers and not self._workers[wa_id].done():
            return
        self._workers[wa_id] = asyncio.create_task(self._work(wa_id, on_new_message))

    async def _work(
        self, wa_id: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        await asyncio.sleep(self.settings.reorder_window_seconds)
        while True:
            if wa_id in self._erasures:
                await self._erase(wa_id)
            try:
                row = self.store.next_pending(wa_id, MAX_ATTEMPTS)
            except Exception:  # noqa: BLE001 - the database is away: the sweep comes back
                logger.exception("whatsapp.inbox.unavailable")
                row = None
            if row is None:
                self._workers.pop(wa_id, None)  # no await since the check: no message is missed
                return
            token = int(row["attempts"])
            failed = exhausted = bool(row["exhausted"])
            if exhausted:  # claimed MAX_ATTEMPTS times, never finished: it kills its process
                logger.error("whatsapp.process.exhausted attempts=%s", token - 1)
            else:
                beat = asyncio.create_task(self._keep_claim(row["message_id"], token))
                try:
                    await self._process(row, on_new_message)
                except Exception:  # noqa: BLE001 - one message never stops the citizen's queue
                    logger.exception("whatsapp.process.failed attempt=%s", token)
                    failed = True
                finally:
                    beat.cancel()
            try:
                if not failed:
                    if not self.store.finish(row["message_id"], "done", token):
                        logger.warning("whatsapp.claim.lost attempt=%s", token)
                elif not exhausted and token < MAX_ATTEMPTS:
                    self.store.release(row["message_id"], token)
                    await asyncio.sleep(2.0 * token)
                else:
                    await self._give_up(row, token)
            except Exception:  # noqa: BLE001 - the database is away: the claim runs out and
                # the sweep of whichever process is alive then hands the message on again
                logger.exception("whatsapp.claim.unfinished attempt=%s", token)
                self._workers.pop(wa_id, None)
                return

    async def _keep_claim(self, message_id: str, token: int) -> None:
        """Renews the claim while the turn runs, so no other worker takes the message."""
        interval = max(0.2, self.settings.stuck_after_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                if not self.store.heartbeat(message_id, token):
                    logger.warning("whatsapp.claim.lost attempt=%s", token)
                    return
            except Exception:  # noqa: BLE001 - the database may be back at the next beat
                logger.exception("whatsapp.claim.heartbeat_failed")

    async def _give_up(self, row: dict[str, Any], token: int) -> None:
        """The apology for a message the assistant cannot answer (once), then ``failed``."""
        body = {"type": "text", "text": {"body": APOLOGY}}
        await self.deliver_once(
            row["phone_number_id"], row["wa_id"], body, f"{row['message_id']}:apology"
        )
        self.store.finish(row["message_id"], "failed", token)

    def _holder(self, wa_id: str) -> str:
        """The conversation's name as a holder of stored files (not the number itself)."""
        return f"chat-{self.store._subject(wa_id)[:32]}"

    async def _erase(self, wa_id: str) -> None:
        """The citizen's conversation, event-feed rows, uploads and channel data go."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                refs: list[str] = []
                if self.app is not None:  # inside Rasa (not in the channel's unit tests)
                    if self.agent is None or not self.agent.is_ready():
                        raise RuntimeError("the assistant is not ready")
                    refs = await conversation.erase(self.agent, wa_id)
                for ref in refs:  # deleted unless a record still holds it (a kept
                    # application's document: connectors/media.py)
                    media.drop_reference(self.settings.media_dir, ref, self._holder(wa_id))
                self.store.erase(wa_id)
                logger.info("whatsapp.erasure.done files=%s", len(refs))
                break
            except Exception:  # noqa: BLE001 - stays pending (GET /erase says so), retried
                logger.exception("whatsapp.erasure.failed attempt=%s", attempt)
                await asyncio.sleep(2.0 * attempt)
        self._erasures.discard(wa_id)

    # --- from a stored message to a Rasa turn -----------------------------------------

    async def _process(
        self, row: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        message = json.loads(row["body"])
        wa_id, number = row["wa_id"], row["phone_number_id"]
        metadata: dict[str, Any] = {
            "phone_number_id": number,
            "department": self.settings.numbers.get(number, ""),
            "message_timestamp": row["timestamp"],
        }
        if message.get("profile_name"):
            metadata["profile_name"] = message["profile_name"]
        text = await self._text_for_rasa(message, wa_id, number, metadata, row["message_id"])
        if text is None:
            return
        output = WhatsAppOutput(self, number, reply_to=row["message_id"])
        user_message = UserMessage(
            redact_aadhaar(text),
            output,
            wa_id,
            input_channel=self.name(),
            message_id=row["message_id"],
            metadata=mask_tree(metadata),
        )
        if self.agent is not None and self.store.handoff(wa_id) is not None:
            await conversation.log_only(self.agent, user_message)  # the officer answers
        elif self.agent is not None and int(row["attempts"]) > 1:
            # claimed before by a process that died: maybe after saving the turn
            await conversation.handle(self.agent, user_message, retried=True, record_only=False)
        else:  # a first attempt: Rasa's own handler (the channel's tests: a stand-in)
            await on_new_message(user_message)

    async def _text_for_rasa(
        self,
        message: dict[str, Any],
        wa_id: str,
        number: str,
        metadata: dict[str, Any],
        message_id: str = "",
    ) -> str | None:
        """What Rasa reads for this message; None when the channel answers it itself."""
        age = self.settings.clock() - int(message.get("timestamp") or 0)
        if age > self.settings.stale_after_seconds:
            metadata.update(trusted_payload=True, stale_seconds=int(age))
            return "/stale_message"
        kind = message.get("kind")
        if kind == "reply":
            found = self.store.issued_payload(wa_id, message.get("reply_id") or "")
            if found is None:  # not a button we issued to this citizen: plain text
                return str(message.get("text") or "")
            payload, issued_at = found
            # when the citizen tapped (WhatsApp's timestamp), or now if that is later
            tapped_at = max(self.settings.clock(), float(message.get("timestamp") or 0))
            if tapped_at - issued_at > BUTTON_TTL_SECONDS:  # an old message's button
                language = await self._language(wa_id)
                await self._say(number, wa_id, message_id, "utter_button_expired", language)
                return None
            if payload.startswith(PAGE_PREFIX):
                await self._next_page(number, wa_id, payload[len(PAGE_PREFIX) :], message_id)
                return None
            if payload.startswith(HEARD_PREFIX):  # "yes, that's right": as if typed
                return payload[len(HEARD_PREFIX) :]
            if payload.startswith(SAY_AGAIN):  # the language "I heard" was shown in
                language = await self._language(wa_id, default=payload[len(SAY_AGAIN) + 1 :])
                await self._say(number, wa_id, message_id, "utter_voice_say_again", language)
                return None
            if payload.startswith("/"):
                metadata["trusted_payload"] = True
            return payload
        if kind == "media":
            return await self._media_for_rasa(message, metadata, wa_id)
        if kind == "location":
            location = message.get("location") or {}
            metadata["location"] = location
            described = location.get("address") or location.get("name")
            return str(described or f"{location.get('latitude')}, {location.get('longitude')}")
        if kind == "audio" and self.settings.asr is not None and not self.store.handoff(wa_id):
            await self._voice_note(message, wa_id, number, message_id)
            return None
        if kind in ("unsupported", "audio"):  # audio: no speech-to-text service, or an officer
            metadata["trusted_payload"] = True
            # "audio", "sticker", "video", ...: the form answers each in its own words
            metadata["message_type"] = str(message.get("original_type") or "")
            return "/unsupported_message"
        return str(message.get("text") or "")

    async def _media_for_rasa(
        self, message: dict[str, Any], metadata: dict[str, Any], wa_id: str
    ) -> str:
        info = message.get("media") or {}
        declared = str(info.get("mime_type") or "").split(";")[0].strip()
        limit = media.ALLOWED.get(declared, ("", 0))[1]
        checked: media.Checked
        if not limit:
            checked = media.Checked(False, "mime_not_allowed", None, None, 0)
        else:
            try:
                _, data = await self.graph.download_media(str(info.get("id")), limit)
                checked = media.check_upload(data, declared, info.get("sha256"), limit)
            except DownloadError as error:
                logger.warning(
                    "whatsapp.media.download_refused code=%s detail=%s", error.code, error.detail
                )
                code = _UPLOAD_ERROR_FOR.get(error.code, error.code)
                checked = media.Checked(False, code, None, None, 0)
        if not checked.ok:
            metadata["trusted_payload"] = True
            return f'/upload_rejected{{"upload_error": "{checked.error}"}}'
        reference = media.store(
            data, self.settings.media_dir, str(checked.sha256_hex), str(checked.mime_type)
        )
        # held while the conversation holds it; an application it becomes holds it too
        media.add_reference(self.settings.media_dir, reference, self._holder(wa_id))
        metadata["attachment"] = {
            "storage_ref": reference,
            "mime_type": checked.mime_type,
            "sha256": checked.sha256_hex,
            "size": checked.size,
            "filename": str(info.get("filename") or Path(reference).name)[:200],
        }
        caption = str(message.get("text") or info.get("caption") or "").strip()
        if caption:
            return caption
        metadata["trusted_payload"] = True
        return "/inform"

    async def _voice_note(
        self, message: dict[str, Any], wa_id: str, number: str, message_id: str
    ) -> None:
        """Transcribes a voice note and shows the citizen what was heard, with buttons to
        confirm it (the transcript is then read as if typed, also as a form's answer) or
        to say it again. Rasa sees nothing until then, so a form in progress waits. If the
        note cannot be heard, the citizen is asked to send it again or type."""
        settings = self.settings.asr
        assert settings is not None
        info = message.get("media") or {}
        try:
            _, data = await self.graph.download_media(str(info.get("id")), asr.MAX_AUDIO_BYTES)
            mime = asr.check_audio(data, str(info.get("mime_type") or ""), info.get("sha256"))
            text = redact_aadhaar(await asr.transcribe(settings, data, mime))
        except (DownloadError, asr.TranscriptionError) as error:
            logger.warning("whatsapp.voice.not_heard code=%s detail=%s", error.code, error.detail)
            language = await self._language(wa_id)
            await self._say(number, wa_id, message_id, "utter_voice_not_heard", language)
            return
        logger.info("whatsapp.voice.heard chars=%s", len(text))
        language = await self._language(wa_id, default=_script_language(text))
        await self._say(number, wa_id, message_id, "utter_voice_heard", language, transcript=text)

    async def _language(self, wa_id: str, default: str = conversation.DEFAULT_LANGUAGE) -> str:
        """The citizen's language (the ``language`` slot), ``default`` if not known yet."""
        default = default if default in ("hi", "en") else conversation.DEFAULT_LANGUAGE
        if self.agent is None:
            return default
        tracker = await self.agent.tracker_store.retrieve(wa_id)
        value = tracker.get_slot("language") if tracker is not None else None
        return value if value in ("hi", "en") else default

    async def _say(
        self,
        number: str,
        wa_id: str,
        message_id: str,
        response_name: str,
        language: str,
        transcript: str = "",
    ) -> None:
        """Sends one of the domain's responses (its ``language`` variation) as the reply to
        ``message_id``; its ``__heard__`` button carries ``transcript``, its "say it
        again" button the language it was shown in (for a citizen new to the assistant)."""
        domain = getattr(self.agent, "domain", None)
        if domain is None or response_name not in domain.responses:  # a model older than them
            domain = _domain()
        rendered = TemplatedNaturalLanguageGenerator(domain.responses).generate_from_slots(
            response_name, {"language": language}, self.name(), transcript=transcript
        )
        if rendered is None:
            logger.error("whatsapp.response.missing name=%s", response_name)
            return
        carried = {"__heard__": HEARD_PREFIX + transcript, SAY_AGAIN: f"{SAY_AGAIN}:{language}"}
        buttons = [
            {**b, "payload": carried.get(b.get("payload"), b.get("payload"))}
            for b in rendered.get("buttons") or []
        ]
        reply: dict[str, Any] = {"text": rendered.get("text") or ""}
        if buttons:
            reply["buttons"] = buttons
        output = WhatsAppOutput(self, number, reply_to=message_id or None)
        await output.send_response(wa_id, reply)

    async def _next_page(
        self, number: str, wa_id: str, remaining_json: str, reply_to: str = ""
    ) -> None:
        language = _script_language(remaining_json)
        for index, body in enumerate(
            more_page_payloads(
                wa_id, remaining_json, lambda p: self.store.issue(wa_id, p), language, ""
            )
        ):
            await self.deliver_once(
                number, wa_id, body, f"{reply_to}:{index}" if reply_to else None
            )

    # --- sending ---------------------------------------------------------------------

    def inside_window(self, wa_id: str, number: str) -> bool:
        last = self.store.last_inbound_at(wa_id, number)
        return last is not None and self.settings.clock() - last < WINDOW_SECONDS

    def template_for(self, body: dict[str, Any]) -> dict[str, Any]:
        """The registered update template carrying a bot reply, outside the 24-hour window.

        Raises :class:`TemplateError` if the configured template is not registered.
        """
        text = str(
            (body.get("text") or {}).get("body")
            or (body.get("interactive") or {}).get("body", {}).get("text")
            or ""
        )
        template = self.templates.check(self.settings.update_template, [text])
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": body.get("to"),
            "type": "template",
            "template": template.graph_template(_script_language(text), [text]),
        }

    def template_problem(self, body: dict[str, Any]) -> str | None:
        """Why a template message may not be sent (unregistered, wrong count), or None."""
        if body.get("type") != "template":
            return None
        template = body.get("template") or {}
        parameters = [
            p
            for component in template.get("components") or []
            if component.get("type") == "body"
            for p in component.get("parameters") or []
        ]
        try:
            self.templates.check(str(template.get("name")), parameters)
        except TemplateError as error:
            return error.code
        return None

    async def send_checked(
        self, number: str, body: dict[str, Any], max_retries: int | None = None
    ) -> SendResult:
        """Sends through the Graph API, refusing a template the registry does not allow."""
        problem = self.template_problem(body)
        if problem is not None:
            name = (body.get("template") or {}).get("name")
            logger.error("whatsapp.template.refused name=%s reason=%s", name, problem)
            return SendResult(False, None, None, 422)
        result = await self.graph.send(number, body, max_retries=max_retries)
        if result.ok and result.message_id:
            self.store.record_sent(result.message_id, str(body.get("to")), number)
        return result

    async def send_template(
        self,
        number: str,
        wa_id: str,
        template: Template,
        language: str,
        parameters: Any,
        max_retries: int | None = None,
    ) -> tuple[SendResult, str]:
        """A registered message: inside the 24-hour window its text with reply buttons,
        outside it the template itself. Returns the result and ``"text"``/``"template"``.
        """
        rendered = template.render(language, parameters)
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id}
        if self.inside_window(wa_id, number):
            result = SendResult(False)
            bodies = outbound_payloads(
                wa_id,
                {"text": rendered.text, "buttons": rendered.buttons},
                lambda payload: self.store.issue(wa_id, payload),
                language,
            )
            for body in bodies:
                result = await self.send_checked(number, {**base, **body}, max_retries)
                if not result.ok:
                    break
            if result.error_code != OUTSIDE_WINDOW:
                return result, "text"
        button_ids = [self.store.issue(wa_id, b["payload"]) for b in rendered.buttons]
        body = {
            **base,
            "type": "template",
            "template": template.graph_template(language, parameters, button_ids),
        }
        return await self.send_checked(number, body, max_retries), "template"

    async def deliver(self, number: str, wa_id: str, body: dict[str, Any]) -> str | None:
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": wa_id,
            **body,
        }
        body = await self._upload_links(number, body)
        try:
            if body.get("type") != "template" and not self.inside_window(wa_id, number):
                body = self.template_for(body)
            result = await self.send_checked(number, body)
            if not result.ok and result.error_code == OUTSIDE_WINDOW:
                result = await self.send_checked(number, self.template_for(body))
        except TemplateError as error:
            logger.error("whatsapp.template.refused reason=%s", error.code)
            return None
        if result.ok and result.message_id:
            return result.message_id
        logger.warning("whatsapp.deliver.failed code=%s", result.error_code)
        return None

    async def deliver_once(
        self, number: str, wa_id: str, body: dict[str, Any], key: str | None
    ) -> str | None:
        """:meth:`deliver`, unless a reply under ``key`` was already sent (by an earlier
        attempt at the same turn); None then, or if it could not be sent."""
        if key is not None and self.store.reply_sent(key):
            logger.info("whatsapp.reply.already_sent")
            return None
        sent = await self.deliver(number, wa_id, body)
        if key is not None and sent is not None:
            # WhatsApp has it now: a database that is restarting must not make a re-run
            # send it again, so keep trying to record it for a while
            for delay in RECORD_RETRY_DELAYS:
                try:
                    self.store.record_reply(key, sent)
                    break
                except SQLAlchemyError:
                    logger.warning("whatsapp.reply.record_retry")
                    await asyncio.sleep(delay)
            else:
                self.store.record_reply(key, sent)
        return sent

    async def _upload_links(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        """Files the bot sends (certificates) are uploaded through the media API."""
        kind = body.get("type")
        if kind not in ("document", "image") or "link" not in (body.get(kind) or {}):
            return body
        part = dict(body[kind])
        try:
            data = await self.graph.fetch_url(str(part["link"]), 100 * 2**20)
            mime = "application/pdf" if data.startswith(b"%PDF") else "image/jpeg"
            if kind == "image" and data.startswith(b"\x89PNG"):
                mime = "image/png"
            filename = str(
                part.get("filename") or ("document.pdf" if kind == "document" else "image")
            )
            media_id = await self.graph.upload_media(number, data, mime, filename)
        except (ValueError, OSError) as error:  # DownloadError is a ValueError
            reason = getattr(error, "code", None) or type(error).__name__
            logger.warning("whatsapp.media.upload_failed error=%s", reason)
            return body  # let the Graph API fetch the link itself
        part.pop("link")
        part["id"] = media_id
        return {**body, kind: part}


class WhatsAppOutput(OutputChannel):
    """Sends Rasa's replies from the number the citizen wrote to.

    ``reply_to``: the citizen's message this turn answers; its n-th reply is sent once
    however many times the turn runs (see ``WhatsAppInput.deliver_once``).
    """

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(
        self, channel: WhatsAppInput, phone_number_id: str, reply_to: str | None = None
    ) -> None:
        self.channel = channel
        self.phone_number_id = phone_number_id
        self.reply_to = reply_to
        self.replies = 0

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        text = str(message.get("text") or "")
        bodies = outbound_payloads(
            recipient_id,
            dict(message),
            lambda payload: self.channel.store.issue(recipient_id, payload),
            _script_language(text),
        )
        for body in bodies:
            key = f"{self.reply_to}:{self.replies}" if self.reply_to else None
            self.replies += 1
            sent = await self.channel.deliver_once(self.phone_number_id, recipient_id, body, key)
            if key is not None and sent is not None:
                faults.kill_point("after_send")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": quick_replies})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"image": image})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"attachment": attachment})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"custom": json_message})

    async def send_elements(
        self, recipient_id: str, elements: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"elements": elements})
