"""The emulator app is three blueprints (Graph API, simulator, control) and every route it
had before the split still answers with its own handler's answer."""

import requests

from tests.support.emulator import (
    CITIZEN,
    GRAPH_VERSION,
    NUMBER_ID,
    environment_for,
    running_emulator,
    webhook_receiver,
)
from whatsapp_emulator.app import create_app
from whatsapp_emulator.config import from_env
from whatsapp_emulator.validation import Templates

ROUTES = {
    "graph": {
        ("POST", "/<version:v[0-9]+\\.[0-9]+>/<phone_number_id>/messages"),
        ("POST", "/<version:v[0-9]+\\.[0-9]+>/<phone_number_id>/media"),
        ("GET", "/<version:v[0-9]+\\.[0-9]+>/<waba_id>/message_templates"),
        ("GET", "/<version:v[0-9]+\\.[0-9]+>/<waba_id>/phone_numbers"),
        ("GET", "/<version:v[0-9]+\\.[0-9]+>/<object_id>"),
        ("DELETE", "/<version:v[0-9]+\\.[0-9]+>/<object_id>"),
        ("GET", "/whatsapp_business/attachments"),
    },
    "simulator": {
        ("GET", "/"),
        ("GET", "/simulator/info"),
        ("POST", "/simulator/send"),
        ("POST", "/simulator/upload"),
        ("GET", "/simulator/conversation"),
        ("GET", "/simulator/events"),
        ("GET", "/simulator/media/<media_id>"),
    },
    "control": {
        ("GET", "/health"),
        ("GET", "/emulator/config"),
        ("POST", "/emulator/config"),
        ("GET", "/emulator/stats"),
        ("POST", "/emulator/reset"),
        ("GET", "/emulator/verify-webhook"),
        ("POST", "/emulator/verify-webhook"),
    },
}


def test_the_app_is_exactly_three_blueprints_holding_every_route(tmp_path):
    settings = from_env(environment_for(tmp_path, 1))
    app = create_app(settings, Templates.load(settings.templates_file), tmp_path)
    assert set(app.blueprints) == {"graph", "simulator", "control"}
    for name, routes in ROUTES.items():
        held = {
            (method, "/" + route.path.lstrip("/").replace(":str>", ">"))
            for route in app.router.routes
            if route.name.split(".")[1] == name
            for method in route.methods
            if not route.name.endswith(".static")
        }
        assert held == routes, name


def test_every_route_still_answers(tmp_path):
    with webhook_receiver() as receiver, running_emulator(tmp_path, WEBHOOK_URL=receiver.url) as wa:
        answers_on_every_route(wa)


def answers_on_every_route(wa):
    def call(method, path, auth=False, **kwargs):
        headers = wa.headers if auth else {}
        return requests.request(method, wa.url + path, headers=headers, timeout=10, **kwargs)

    v = f"/{GRAPH_VERSION}"
    info = call("GET", "/simulator/info").json()
    waba = info["waba_id"]
    assert info["phone_numbers"][0]["id"] == NUMBER_ID
    # Graph API: the handlers' own answers and errors, not the router's 404/405
    assert call("GET", f"{v}/{NUMBER_ID}").status_code == 401
    assert call("GET", f"{v}/{NUMBER_ID}", auth=True).json()["id"] == NUMBER_ID
    assert call("GET", f"{v}/{waba}/message_templates", auth=True).json()["data"]
    assert call("GET", f"{v}/{waba}/phone_numbers", auth=True).json()["data"][0]["id"] == NUMBER_ID
    refused = call("POST", f"{v}/{NUMBER_ID}/messages", auth=True, json={})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "OAuthException"
    refused = call("POST", f"{v}/{NUMBER_ID}/media", auth=True, data={"x": "1"})
    assert refused.status_code == 400 and "messaging_product" in refused.text
    assert call("DELETE", f"{v}/123456789", auth=True).json()["error"]["code"] == 100
    gone = call("GET", "/whatsapp_business/attachments/?mid=1&ext=1&hash=x", auth=True)
    assert gone.status_code == 404 and "expired" in gone.json()["error"]
    # simulator
    page = call("GET", "/")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert call("GET", "/static/app.js").status_code == 200
    sent = call("POST", "/simulator/send", json={"from": CITIZEN, "text": "नमस्ते"})
    assert sent.status_code == 200 and sent.json()["message_id"].startswith("wamid.")
    assert call("POST", "/simulator/send", json=[]).json() == {
        "error": "the body must be a JSON object"
    }
    assert call("POST", "/simulator/upload").json() == {
        "error": "multipart field 'file' is required"
    }
    [said] = call("GET", f"/simulator/conversation?wa_id={CITIZEN}").json()["messages"]
    assert said["id"] == sent.json()["message_id"]
    assert said["payload"]["text"]["body"] == "नमस्ते"
    with call("GET", "/simulator/events", stream=True) as events:
        assert events.headers["Content-Type"].startswith("text/event-stream")
        assert next(events.iter_content(64)).startswith(b"retry: 1000")
    assert call("GET", "/simulator/media/nothing").json() == {"error": "unknown media"}
    # control
    assert call("GET", "/health").json()["status"] == "ok"
    assert (
        call("GET", "/emulator/config").json() == call("POST", "/emulator/config", json={}).json()
    )
    assert call("GET", "/emulator/stats").json()["messages_inbound"] >= 1
    for method in ("GET", "POST"):
        assert call(method, "/emulator/verify-webhook").status_code == 200
    assert call("POST", "/emulator/reset").json() == {"ok": True}
    assert call("GET", "/emulator/stats").json()["messages_inbound"] == 0
