"""The phone-simulator page: local assets only, live events, and (with Chromium) real use."""

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from html.parser import HTMLParser

import aiohttp
import pytest
import requests

from tests.support.emulator import (
    CITIZEN,
    NUMBER_ID,
    wait_until,
)

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)


pytestmark = pytest.mark.usefixtures("fresh_emulator")


class References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def test_page_references_only_local_assets(wa):
    response = requests.get(f"{wa.url}/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    parser = References()
    parser.feed(response.text)
    assets = [u for u in parser.urls if not u.startswith("#")]
    assert "/static/app.js" in assets and "/static/app.css" in assets
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = requests.get(f"{wa.url}{url}", timeout=5)
        assert asset.status_code == 200, url
    for name, kind in (("app.js", "javascript"), ("app.css", "css")):
        asset = requests.get(f"{wa.url}/static/{name}", timeout=5)
        assert kind in asset.headers["Content-Type"]
        assert not re.search(r"https?://", asset.text), f"{name} loads something external"
        assert "@import" not in asset.text and "url(" not in asset.text
    # accessible form controls: every input, select and textarea has a label
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', response.text))
    labelled = set(re.findall(r'<label for="([^"]+)"', response.text))
    assert ids - labelled == {"file"}  # the file input is driven by a labelled button


def test_info_lists_the_government_numbers(wa):
    info = requests.get(f"{wa.url}/simulator/info", timeout=5).json()
    assert [(n["id"], n["label"]) for n in info["phone_numbers"]] == [
        ("100001", "Delhi Sewa"),
        ("100002", "Transport"),
    ]


def test_conversation_is_ordered_with_sequence_numbers_and_after(wa, receiver):
    first = wa.citizen_says("one")
    reply = wa.send_text("two").json()["messages"][0]["id"]
    third = wa.citizen_says("three")
    conversation = wa.conversation()
    assert [m["id"] for m in conversation] == [first, reply, third]
    seqs = [m["seq"] for m in conversation]
    assert seqs == sorted(seqs)
    assert [m["id"] for m in wa.conversation(after=seqs[0])] == [reply, third]
    receiver.wait_for_statuses(reply, {"read"})
    reply_entry = wa.conversation()[1]
    assert [s["status"] for s in reply_entry["statuses"]] == ["sent", "delivered", "read"]
    other = requests.get(
        f"{wa.url}/simulator/conversation",
        params={"wa_id": "919999999999", "phone_number_id": NUMBER_ID},
        timeout=5,
    ).json()
    assert other["messages"] == [] and other["window_open"] is False


def test_events_stream_pushes_new_messages(wa):
    url = f"{wa.url}/simulator/events?wa_id={CITIZEN}&phone_number_id={NUMBER_ID}"
    with requests.get(url, stream=True, timeout=5) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        wa.citizen_says("other citizen", wa_id="919811111111")  # filtered out
        sent = wa.citizen_says("लाइव संदेश")
        for line in lines:
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["event"] == "message":
                    break
        assert event["entry"]["id"] == sent
        assert event["entry"]["payload"]["text"]["body"] == "लाइव संदेश"


def test_simulator_media_serves_documents_for_download(wa):
    media_id = wa.graph(
        "POST",
        f"{NUMBER_ID}/media",
        files={"file": ("प्रमाण पत्र.pdf", b"%PDF-1.4 cert", "application/pdf")},
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
    ).json()["id"]
    response = requests.get(f"{wa.url}/simulator/media/{media_id}?download=1", timeout=5)
    assert response.content == b"%PDF-1.4 cert"
    assert response.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert requests.get(f"{wa.url}/simulator/media/404", timeout=5).status_code == 404


def test_control_api_validates_and_resets(wa):
    bad = requests.post(f"{wa.url}/emulator/config", json={"duplicates": 0}, timeout=5)
    assert bad.status_code == 400 and "duplicates" in bad.json()["errors"][0]
    assert wa.configure(duplicates=2)["duplicates"] == 2
    wa.citizen_says("to be forgotten")
    wa.reset()
    assert wa.conversation() == []
    config = requests.get(f"{wa.url}/emulator/config", timeout=5).json()
    assert config["duplicates"] == 1 and config["clock_offset_seconds"] == 0


# the page in a real browser -------------------------------------------------------------
class Chromium:
    """Headless Chromium driven over the DevTools protocol (aiohttp websockets only)."""

    def __init__(self, profile):
        self.profile = profile
        self.process = None
        self.ws = None
        self.session = None
        self._id = 0

    async def open(self, url):
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "--window-size=1100,1000",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = self.profile / "DevToolsActivePort"
        port = wait_until(lambda: port_file.exists() and port_file.read_text().split("\n")[0], 20)
        self.session = aiohttp.ClientSession()
        for _ in range(200):
            async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
                pages = [t for t in await response.json() if t["type"] == "page"]
            if pages and pages[0]["url"].startswith(url):
                break
            await asyncio.sleep(0.05)
        self.ws = await self.session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)

    async def evaluate(self, expression):
        self._id += 1
        await self.ws.send_json(
            {
                "id": self._id,
                "method": "Runtime.evaluate",
                "params": {"expression": expression, "awaitPromise": True, "returnByValue": True},
            }
        )
        while True:
            answer = await self.ws.receive_json(timeout=10)
            if answer.get("id") == self._id:
                result = answer["result"]
                assert "exceptionDetails" not in result, result
                return result["result"].get("value")

    # 30 s: under the whole suite's load a live update has taken more than 10 s to show.
    async def wait_for(self, expression, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.05)
        raise TimeoutError(expression)

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)


def inbound(receiver, count):
    """Webhooks carrying citizens' messages (status webhooks are left out)."""
    return wait_until(
        lambda: len(found := [r for r in receiver.accepted() if r.messages()]) >= count and found
    )


def count_in_dom(selector):
    return f"document.querySelectorAll({json.dumps(selector)}).length"


@pytest.mark.skipif(CHROMIUM is None, reason="needs a Chromium binary (apt-get install chromium)")
async def test_page_in_headless_chromium(wa, receiver, tmp_path):
    wa.citizen_says("नमस्ते", name="Asha")
    wa.send_text("नमस्ते!\n*दिल्ली सेवा* में _स्वागत_ है")
    wa.send(
        {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Choose your language"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "lang_hi", "title": "हिन्दी"}},
                        {"type": "reply", "reply": {"id": "lang_en", "title": "English"}},
                    ]
                },
            },
        }
    )
    wa.send(
        {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Services"},
                "action": {
                    "button": "View services",
                    "sections": [
                        {
                            "title": "Certificates",
                            "rows": [{"id": "svc_income", "title": "Income", "description": "आय"}],
                        }
                    ],
                },
            },
        }
    )
    media_id = wa.graph(
        "POST",
        f"{NUMBER_ID}/media",
        files={"file": ("certificate.pdf", b"%PDF-1.4 c", "application/pdf")},
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
    ).json()["id"]
    wa.send(
        {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "document",
            "document": {"id": media_id, "filename": "certificate.pdf"},
        }
    )
    receiver.clear()
    browser = Chromium(tmp_path / "profile")
    try:
        await browser.open(f"{wa.url}/")
        await browser.wait_for(f"{count_in_dom('#messages li')} === 5")
        assert await browser.evaluate("document.querySelector('#messages strong').textContent") == (
            "दिल्ली सेवा"
        )
        assert (
            await browser.evaluate("document.querySelector('#messages em').textContent") == "स्वागत"
        )
        assert await browser.evaluate(count_in_dom("#messages br")) >= 1
        href = await browser.evaluate("document.querySelector('a.doc').getAttribute('href')")
        assert href == f"/simulator/media/{media_id}?download=1"

        # type Hindi and press Send
        await browser.evaluate(
            "document.getElementById('text').value = 'मुझे आय प्रमाण पत्र चाहिए';"
            "document.getElementById('send').click(); true"
        )
        [typed] = await asyncio.to_thread(inbound, receiver, 1)
        assert typed.messages()[0]["text"]["body"] == "मुझे आय प्रमाण पत्र चाहिए"
        assert typed.json()["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"][
            "name"
        ] == ("Asha Verma")

        # tap a reply button
        await browser.evaluate(
            "[...document.querySelectorAll('.actions button')]"
            ".find(b => b.textContent === 'English').click(); true"
        )
        webhooks = await asyncio.to_thread(inbound, receiver, 2)
        button = webhooks[1].messages()[0]
        assert button["interactive"]["button_reply"] == {"id": "lang_en", "title": "English"}
        assert "context" in button

        # open the list and tap a row
        await browser.evaluate(
            "[...document.querySelectorAll('.actions button')]"
            ".find(b => b.textContent.includes('View services')).click(); true"
        )
        assert await browser.evaluate("document.getElementById('list-dialog').open")
        await browser.evaluate("document.querySelector('.row-button').click(); true")
        webhooks = await asyncio.to_thread(inbound, receiver, 3)
        row = webhooks[2].messages()[0]
        assert row["interactive"]["list_reply"] == {
            "id": "svc_income",
            "title": "Income",
            "description": "आय",
        }

        # attach a PDF with a caption: uploaded, then sent as a document message
        await browser.evaluate(
            "const input = document.getElementById('file');"
            "const files = new DataTransfer();"
            "files.items.add(new File(['%PDF-1.4 lease'], 'lease.pdf', {type: 'application/pdf'}));"
            "input.files = files.files;"
            "input.dispatchEvent(new Event('change')); true"
        )
        await browser.wait_for("!document.getElementById('attachment').hidden")
        await browser.evaluate(
            "document.getElementById('text').value = 'किराया समझौता';"
            "document.getElementById('send').click(); true"
        )
        webhooks = await asyncio.to_thread(inbound, receiver, 4)
        document = webhooks[3].messages()[0]
        assert document["type"] == "document"
        assert document["document"]["filename"] == "lease.pdf"
        assert document["document"]["caption"] == "किराया समझौता"
        uploaded = requests.get(f"{wa.url}/simulator/media/{document['document']['id']}", timeout=5)
        assert uploaded.content == b"%PDF-1.4 lease"

        # share the default Delhi location from the dialog
        await browser.evaluate("document.getElementById('location-button').click(); true")
        assert await browser.evaluate("document.getElementById('location-dialog').open")
        await browser.evaluate(
            "document.querySelector('#location-form button[value=send]').click(); true"
        )
        webhooks = await asyncio.to_thread(inbound, receiver, 5)
        shared = webhooks[4].messages()[0]
        location = shared["location"]
        assert (location["latitude"], location["longitude"]) == (28.6129, 77.2295)
        assert location["name"] == "India Gate"

        # a new bot message shows up live, and the citizen's ticks turn blue when read
        wa.send_text("Live reply")
        await browser.wait_for(
            "document.getElementById('messages').textContent.includes('Live reply')"
        )
        wa.send({"messaging_product": "whatsapp", "status": "read", "message_id": shared["id"]})
        await browser.wait_for(count_in_dom("#messages .ticks.read") + " >= 6")
    finally:
        await browser.close()
