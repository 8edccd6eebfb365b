"""deploy/nginx.conf in front of the real services: a real nginx from Debian
(``scripts/system_packages.sh`` installs it), started unprivileged and in the foreground on
loopback with the production file rendered onto free ports (upstreams, listen ports, TLS
files, logs and temp paths in a temporary directory; nothing else changed).

Behind it: the real backends (the production profile, ``PAYMENT_GATEWAY=razorpay`` on a
local stand-in of Razorpay's API) and dashboard (``DASHBOARD_TRUSTED_PROXY=1``,
``DASHBOARD_URL_PREFIX=/dashboard``, as deployed) and, for Rasa's webhook, a stub that
echoes the headers it receives. Clients connect from different loopback addresses
(127.0.0.2, 127.0.0.3, ...) so nginx sees different client addresses, as in production.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from backends.config import ROOT
from dashboard.db import AuditEntry, Database
from tests.support.backends import SIGNING_KEY, WEBHOOK_SECRET, Backend, running_backend
from tests.support.dashboard import PASSWORD, Dashboard, csrf_of, running_dashboard
from tests.support.fake_razorpay import KEY_ID, KEY_SECRET, FakeRazorpay, running_razorpay
from tests.support.processes import child_process, free_port
from tests.test_backends_edistrict import _sign, act, new_citizen, submitted_application
from tests.test_backends_payments import new_order, pending_application

CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MB = 1024 * 1024

# The test's own self-signed certificate.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


# --------------------------------------------------------------------------- rendering


def render(conf: str, tmp: Path, ports: dict[str, int]) -> str:
    """The production file with only addresses and paths changed for loopback."""
    replacements = [
        (
            "worker_processes auto;",
            # As root (CI), the workers would switch to "nobody", who cannot reach the
            # test's private temporary directory; otherwise the workers stay as we are.
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\nerror_log {tmp}/error.log info;",
        ),
        (
            "access_log /dev/stdout;",
            f"access_log {tmp}/access.log;\n"
            + "".join(
                f"  {kind}_temp_path {tmp}/{kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
        ),
        ("server rasa:5005;", f"server 127.0.0.1:{ports['rasa']};"),
        ("server backends:8000;", f"server 127.0.0.1:{ports['backends']};"),
        ("server dashboard:8100;", f"server 127.0.0.1:{ports['dashboard']};"),
        ("listen 8080;", f"listen 127.0.0.1:{ports['health']};"),
        ("listen 8443 ssl;", f"listen 127.0.0.1:{ports['https']} ssl;"),
        ("/etc/nginx/tls/", f"{tmp}/tls/"),
    ]
    for old, new in replacements:
        assert old in conf, f"deploy/nginx.conf no longer has {old!r}: update the renderer"
        conf = conf.replace(old, new)
    return conf


def self_signed(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed command
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1",
            "-keyout", str(directory / "tls.key"), "-out", str(directory / "tls.crt"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


# --------------------------------------------------------------------------- the stack


class _Echo(http.server.BaseHTTPRequestHandler):
    """Rasa's webhook, as far as nginx can tell: answers with the headers it received."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Stack:
    url: str  # https://127.0.0.1:<port>, nginx's public server
    backend: Backend
    dashboard: Dashboard
    tmp: Path
    razorpay: FakeRazorpay

    def client(self, source: str) -> requests.Session:
        """A browser connecting from loopback address ``source`` (e.g. 127.0.0.2)."""
        session = requests.Session()
        session.trust_env = False  # no proxy, no CA bundle from the environment
        session.verify = False
        session.mount("https://", _SourceAdapter(source))
        return session


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    assert Path(NGINX).exists(), "nginx is missing: run scripts/system_packages.sh"
    tmp = tmp_path_factory.mktemp("nginx")
    ports = {name: free_port() for name in ("https", "health", "rasa")}
    public = f"https://127.0.0.1:{ports['https']}"
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", ports["rasa"]), _Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    with contextlib.ExitStack() as stack:
        stack.callback(echo.server_close)
        stack.callback(echo.shutdown)
        razorpay = stack.enter_context(running_razorpay(WEBHOOK_SECRET))
        backend = stack.enter_context(
            running_backend(
                tmp / "backends",
                PUBLIC_URL=public,
                DELHI_SEWA_PROFILE="production",
                PAYMENT_GATEWAY="razorpay",
                RAZORPAY_KEY_ID=KEY_ID,
                RAZORPAY_KEY_SECRET=KEY_SECRET,
                RAZORPAY_API_URL=razorpay.api_url,
                RAZORPAY_CHECKOUT_URL=razorpay.checkout_url,
            )
        )
        dashboard = stack.enter_context(
            running_dashboard(
                tmp / "dashboard",
                backends_url=backend.url,
                DASHBOARD_TRUSTED_PROXY="1",
                DASHBOARD_URL_PREFIX="/dashboard",
            )
        )
        ports["backends"] = int(urlsplit(backend.url).port or 0)
        ports["dashboard"] = int(urlsplit(dashboard.url).port or 0)
        self_signed(tmp / "tls")
        conf = tmp / "nginx.conf"
        conf.write_text(render(CONF.read_text(encoding="utf-8"), tmp, ports), encoding="utf-8")
        command = [NGINX, "-p", str(tmp), "-c", str(conf)]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)  # noqa: S603
        assert check.returncode == 0, check.stderr
        stack.enter_context(
            child_process(
                [*command, "-g", f"daemon off; pid {tmp}/nginx.pid;"],
                {},
                tmp / "nginx.out",
                f"http://127.0.0.1:{ports['health']}/healthz",
                name="nginx",
                seconds=20,
            )
        )
        yield Stack(url=public, backend=backend, dashboard=dashboard, tmp=tmp, razorpay=razorpay)


def sign_in(stack: Stack, browser: requests.Session, username: str, password: str) -> Any:
    page = browser.get(f"{stack.url}/dashboard/login", timeout=10)
    assert page.status_code == 200, page.text[:300]
    return browser.post(
        f"{stack.url}/dashboard/login",
        data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )


def audit_ips(stack: Stack, username: str) -> list[str]:
    db = Database(stack.dashboard.db_url)
    try:
        query = select(AuditEntry.ip).where(AuditEntry.username == username)
        return [str(ip) for ip in db.run(lambda s: list(s.execute(query).scalars()))]
    finally:
        db.dispose()


# --------------------------------------------------------------------------- forwarded IP


def test_the_file_overwrites_the_forwarded_headers_never_appends() -> None:
    conf = CONF.read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "proxy_set_header X-Real-IP $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in re.sub(r"#.*", "", conf)


def test_upstreams_get_the_address_nginx_saw_not_the_clients_header(stack: Stack) -> None:
    forged = {"X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.66"}
    answer = stack.client("127.0.0.2").post(
        f"{stack.url}/webhooks/whatsapp/webhook", json={}, headers=forged, timeout=10
    )
    assert answer.status_code == 200, answer.text[:300]
    seen = answer.json()
    assert seen["x-forwarded-for"] == "127.0.0.2"
    assert seen["x-real-ip"] == "127.0.0.2"


def test_a_new_forwarded_for_value_per_try_gains_no_guesses(stack: Stack) -> None:
    stack.dashboard.add_user("nginx.forged", "officer", ["revenue"])
    browser = stack.client("127.0.0.3")
    answers = []
    for n in range(5):
        browser.headers["X-Forwarded-For"] = f"198.51.100.{n + 1}"
        answers.append(sign_in(stack, browser, "nginx.forged", "wrong password").status_code)
    assert answers == [401, 401, 401, 401, 429]
    browser.headers["X-Forwarded-For"] = "198.51.100.99"
    right = sign_in(stack, browser, "nginx.forged", PASSWORD)
    assert right.status_code == 429, "a forged X-Forwarded-For reset the sign-in lock"
    # The audit log has the real address, never a forged one.
    assert set(audit_ips(stack, "nginx.forged")) == {"127.0.0.3"}


def test_one_client_failing_does_not_lock_the_officer_out_everywhere(stack: Stack) -> None:
    stack.dashboard.add_user("nginx.shared", "officer", ["revenue"])
    guesser = stack.client("127.0.0.4")
    answers = [sign_in(stack, guesser, "nginx.shared", "wrong").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    assert sign_in(stack, guesser, "nginx.shared", PASSWORD).status_code == 429
    officer = sign_in(stack, stack.client("127.0.0.5"), "nginx.shared", PASSWORD)
    assert officer.status_code == 302, "clients behind nginx all share one lock"


# --------------------------------------------------------------------------- routes


def test_payment_link_certificate_link_and_verify_page_answer_through_nginx(
    stack: Stack,
) -> None:
    backend = stack.backend
    citizen = new_citizen()
    pending = pending_application(backend, citizen)
    order = new_order(backend, citizen, pending["application_id"])
    assert order.status_code in (200, 201), order.text
    link = order.json()["payment_url"]
    assert link.startswith(f"{stack.url}/payments/checkout/order_")  # PUBLIC_URL: nginx
    pay = requests.get(link, verify=False, timeout=10)
    assert pay.status_code == 200, pay.text[:300]
    assert f'<form method="post" action="{stack.razorpay.checkout_url}">' in pay.text

    app_id = submitted_application(backend, citizen)
    act(backend, app_id, "verify")
    assert act(backend, app_id, "approve").json()["status"] == "approved"
    link = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}/certificate",
        headers=backend.citizen(citizen),
        timeout=10,
    ).json()["url"]
    assert link.startswith(f"{stack.url}/certificates/")  # PUBLIC_URL: the nginx address
    pdf = requests.get(link, verify=False, timeout=20)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    number = link.split("/certificates/")[1].split(".pdf")[0]
    verify = requests.get(
        f"{stack.url}/verify/{number}.{_sign(SIGNING_KEY, number)}", verify=False, timeout=10
    )
    assert verify.status_code == 200 and "Genuine" in verify.text


def test_payments_behind_nginx_have_the_gateway_routes_and_no_sandbox(stack: Stack) -> None:
    """Issue 13, item 3: in production nginx routes the gateway's signed webhook, the
    payment link and the return from the hosted checkout; never the sandbox's /pay/ page
    (where anyone with the link marks an order paid) nor the action server's order API."""
    backend, razorpay = stack.backend, stack.razorpay
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    public = stack.client("127.0.0.9")
    for method, path in (
        ("GET", f"/pay/{order['order_id']}"),
        ("POST", f"/pay/{order['order_id']}"),
        ("POST", "/payments/orders"),
        ("GET", f"/payments/orders/{order['order_id']}"),
    ):
        answer = public.request(method, f"{stack.url}{path}", data={"outcome": "success"})
        assert answer.status_code == 404 and "nginx" in answer.text, path  # nginx's own 404

    page = public.get(order["payment_url"], timeout=10)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    assert fields["callback_url"] == f"{stack.url}/payments/callback"
    status, back = razorpay.checkout(fields)  # the citizen pays on Razorpay's page
    assert status == 200, back
    [(captured, signature), _] = razorpay.webhooks(razorpay.payments[order["order_id"]][0])
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": "0" * 64}
    forged = public.post(f"{stack.url}/payments/webhook", data=captured, headers=headers)
    assert forged.status_code == 401 and forged.json()["error"] == "bad_signature"
    headers["X-Razorpay-Signature"] = signature
    genuine = public.post(f"{stack.url}/payments/webhook", data=captured, headers=headers)
    assert genuine.status_code == 200 and genuine.json()["status"] == "applied", genuine.text
    returned = public.post(back["callback_url"], data=back, timeout=10)
    assert returned.status_code == 200 and "Payment received" in returned.text


def test_the_dashboard_stays_under_dashboard(stack: Stack) -> None:
    stack.dashboard.add_user("nginx.asha", "officer", ["revenue"])
    browser = stack.client("127.0.0.6")
    signed_out = browser.get(f"{stack.url}/dashboard/applications", allow_redirects=False)
    assert signed_out.status_code == 302
    assert signed_out.headers["location"].startswith("/dashboard/login?next=")

    page = browser.get(f"{stack.url}/dashboard/login", timeout=10)
    assert page.status_code == 200
    links = re.findall(r'(?:href|src|action)="(/[^"]*)"', page.text)
    assert links and all(link.startswith("/dashboard/") for link in links), links
    assert 'action="/dashboard/login"' in page.text
    css = browser.get(f"{stack.url}/dashboard/static/app.css", timeout=10)
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]

    signed_in = sign_in(stack, browser, "nginx.asha", PASSWORD)
    assert signed_in.status_code == 302
    session_cookie = next(c for c in browser.cookies if c.name == "dashboard_session")
    assert session_cookie.path == "/dashboard"  # never sent to /pay/, /verify/, ...
    assert signed_in.headers["location"] == "/dashboard/applications"
    home = browser.get(f"{stack.url}/dashboard/", timeout=10)  # follows the redirects
    assert home.status_code == 200 and urlsplit(home.url).path == "/dashboard/applications"
    links = re.findall(r'(?:href|src|action)="(/[^"]*)"', home.text)
    assert links and all(link.startswith("/dashboard/") for link in links), links
    language = browser.get(
        f"{stack.url}/dashboard/language/hi?next=/applications", allow_redirects=False
    )
    assert language.headers["location"] == "/dashboard/applications"

    token = csrf_of(browser.get(f"{stack.url}/dashboard/applications", timeout=10).text)
    out = browser.post(
        f"{stack.url}/dashboard/logout", data={"csrf_token": token}, allow_redirects=False
    )
    assert out.status_code == 302 and out.headers["location"] == "/dashboard/login"
    assert "dashboard_session" not in {c.name for c in browser.cookies}
    again = browser.get(f"{stack.url}/dashboard/applications", allow_redirects=False)
    assert again.headers["location"].startswith("/dashboard/login")


def test_csc_uploads_of_20_mb_pass_and_nothing_else_takes_them(stack: Stack) -> None:
    stack.dashboard.add_user("nginx.csc", "csc_operator", centre="CSC Laxmi Nagar")
    browser = stack.client("127.0.0.7")
    assert sign_in(stack, browser, "nginx.csc", PASSWORD).status_code == 302
    form = browser.get(f"{stack.url}/dashboard/csc/new?service=character_certificate")
    assert form.status_code == 200, form.text[:300]
    big = b"%PDF-1.4\n" + b"0" * (20 * MB)
    upload = browser.post(
        f"{stack.url}/dashboard/csc/new",
        data={"csrf_token": csrf_of(form.text), "service": "character_certificate"},
        files={"identity_proof": ("aadhaar-card.pdf", big, "application/pdf")},
        allow_redirects=False,
        timeout=60,
    )
    # The dashboard answered (here: the form's own errors), not nginx's 413.
    assert upload.status_code != 413 and 'name="csrf-token"' in upload.text, upload.text[:300]

    for path in ("/dashboard/broadcasts", "/dashboard/login", "/payments/callback", "/pay/x"):
        refused = browser.post(f"{stack.url}{path}", data=big, timeout=60)
        assert refused.status_code == 413, path
    webhook = requests.post(
        f"{stack.url}/webhooks/whatsapp/webhook", data=b"0" * (4 * MB), verify=False, timeout=30
    )
    assert webhook.status_code == 413


def test_internal_endpoints_are_not_public(stack: Stack) -> None:
    for path in ("/dashboard/metrics", "/dashboard/health", "/metrics", "/internal", "/health"):
        answer = requests.get(f"{stack.url}{path}", verify=False, timeout=10)
        assert answer.status_code == 404, path


# --------------------------------------------------------------------------- the same elsewhere


def test_compose_and_kubernetes_mount_the_dashboard_where_nginx_does() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert compose["services"]["dashboard"]["environment"]["DASHBOARD_URL_PREFIX"] == "/dashboard"
    example = (ROOT / "deploy" / "env.example").read_text()
    assert re.search(r"^DASHBOARD_TRUSTED_PROXY=1\b", example, re.M)
    assert re.search(r"^DASHBOARD_URL_PREFIX=/dashboard\b", example, re.M)

    k8s = ROOT / "deploy" / "k8s"
    dashboard = yaml.safe_load((k8s / "dashboard.yaml").read_text().split("\n---\n")[0])
    env = {
        e["name"]: e.get("value")
        for e in dashboard["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["DASHBOARD_TRUSTED_PROXY"] == "1" and env["DASHBOARD_URL_PREFIX"] == "/dashboard"

    assert "ingress.yaml" in yaml.safe_load((k8s / "kustomization.yaml").read_text())["resources"]
    routes: dict[str, tuple[str, str]] = {}
    for doc in yaml.safe_load_all((k8s / "ingress.yaml").read_text()):
        size = doc["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
        for rule in doc["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes[path["path"]] = (path["backend"]["service"]["name"], size)
    for prefix in (
        "/payments/webhook",
        "/payments/checkout/",
        "/payments/callback",
        "/certificates/",
        "/verify/",
    ):
        assert routes[prefix] == ("backends", "3m"), prefix
    assert "/pay/" not in routes and "/payments/" not in routes  # the sandbox, orders API
    assert routes["/webhooks/whatsapp/webhook"] == ("rasa", "3m")
    assert routes["/dashboard(/|$)(.*)"] == ("dashboard", "3m")
    assert routes["/dashboard/(csc/new)$"] == ("dashboard", "25m")
    assert not any("metrics" in path or "health" in path for path in routes)


@pytest.mark.parametrize(
    ("role", "departments", "centre"),
    [
        ("supervisor", ["revenue"], None),
        ("admin", [], None),
        ("csc_operator", [], "CSC Laxmi Nagar"),
        ("trainer", [], None),
    ],
)
def test_every_page_of_every_role_links_under_dashboard(
    stack: Stack, role: str, departments: list[str], centre: str | None
) -> None:
    username = f"nginx.pages.{role}"
    stack.dashboard.add_user(username, role, departments, centre=centre)
    browser = stack.client("127.0.0.8")
    assert sign_in(stack, browser, username, PASSWORD).status_code == 302
    home = browser.get(f"{stack.url}/dashboard/", timeout=20)
    # The navigation: every page this role may open.
    pages = re.findall(r'<a href="(/dashboard/[a-z_]+)"[^>]*data-nav=', home.text)
    assert pages, home.text[:500]
    for page in [urlsplit(home.url).path, *pages]:
        answer = browser.get(f"{stack.url}{page}", timeout=20)
        assert urlsplit(answer.url).path.startswith("/dashboard/"), page
        links = re.findall(r'(?:href|src|action|data-[a-z-]+)="(/[^"]*)"', answer.text)
        outside = [link for link in links if not link.startswith("/dashboard/")]
        assert links and not outside, (page, outside)
