"""`make run`: starts every process of the assistant on embedded defaults.

Processes: the WhatsApp Cloud API emulator with its phone simulator page, the backends
(e-District, payment sandbox, grievances), the action server and Rasa with the WhatsApp
channel. Each one's output is prefixed with its name; Ctrl+C (or any process dying)
stops them all. Secrets come from the environment; for a local run any that are unset
are generated once into var/dev-secrets.json (outside the repository).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

from scripts.phone_numbers import emulator_phone_numbers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", "5055"))
BACKENDS_PORT = int(os.environ.get("BACKENDS_PORT", "8000"))
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "9000"))
SECRETS = (
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_TOKEN",
    "WHATSAPP_INTERNAL_TOKEN",
    "BACKENDS_SERVICE_TOKEN",
    "BACKENDS_OFFICER_TOKEN",
    "PAYMENT_WEBHOOK_SECRET",
    "CERTIFICATE_SIGNING_KEY",
    "DASHBOARD_SECRET_KEY",
)


def local_secrets() -> dict[str, str]:
    """Secrets for a local run: the environment's, else generated once and kept in var/."""
    path = ROOT / "var" / "dev-secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    for name in SECRETS:
        stored.setdefault(name, secrets.token_urlsafe(32))
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return {name: os.environ.get(name) or stored[name] for name in SECRETS}


def commands() -> dict[str, list[str]]:
    return {
        "emulator": [sys.executable, "-m", "whatsapp_emulator"],
        "backends": [sys.executable, "-m", "backends"],
        "dashboard": [sys.executable, "-m", "dashboard"],
        "actions": [str(BIN / "rasa"), "run", "actions", "--port", str(ACTIONS_PORT)],
        "rasa": [
            str(BIN / "rasa"),
            "run",
            "--model",
            "models/delhi-sewa.tar.gz",
            "--port",
            str(RASA_PORT),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ],
    }


def open_when_ready(page: str) -> None:
    """Opens the simulator in a browser once Rasa answers, where there is a display."""
    for _ in range(240):
        try:
            with urllib.request.urlopen(  # noqa: S310 - our own local URL
                f"http://127.0.0.1:{RASA_PORT}/webhooks/whatsapp/", timeout=1
            ):
                break
        except OSError:
            time.sleep(1)
    print(f"\nReady: open {page}\n", flush=True)
    if os.environ.get("DISPLAY") or sys.platform == "darwin":
        webbrowser.open(page)


def pump(name: str, process: subprocess.Popen) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"{name:>8} | {line}")
        sys.stdout.flush()


def environment(secrets: dict[str, str]) -> dict[str, str]:
    """What every process gets: the secrets and how the processes find each other."""
    return {
        **os.environ,
        **secrets,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "BACKENDS_PORT": str(BACKENDS_PORT),
        "EMULATOR_PORT": str(EMULATOR_PORT),
        "WEBHOOK_URL": f"http://127.0.0.1:{RASA_PORT}/webhooks/whatsapp/webhook",
        "WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{EMULATOR_PORT}/v21.0",
        # the main number and one per department, as credentials.yml configures them
        "PHONE_NUMBERS": emulator_phone_numbers(),
        # the channel's internal API, for the backends' notifications and the dashboard
        "CHANNEL_URL": f"http://127.0.0.1:{RASA_PORT}/webhooks/whatsapp/internal",
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{BACKENDS_PORT}"),
    }


def main() -> int:
    (ROOT / "var").mkdir(exist_ok=True)
    env = environment(local_secrets())
    # Demo staff accounts for the dashboard; their passwords go to var/dev-secrets.json.
    subprocess.run([sys.executable, "-m", "dashboard.seed"], cwd=ROOT, env=env, check=True)
    processes = {}
    for name, command in commands().items():
        processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=pump, args=(name, processes[name]), daemon=True).start()
    page = f"http://127.0.0.1:{EMULATOR_PORT}/"
    print(
        f"\nThe assistant is starting. Chat with it as a citizen in the phone simulator:\n"
        f"  {page}\n"
        "The department dashboard: http://127.0.0.1:8100/ (demo accounts: see above)\n"
        "Ctrl+C stops everything.\n",
        flush=True,
    )
    threading.Thread(target=open_when_ready, args=(page,), daemon=True).start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.is_set():
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} stopped; stopping the rest", file=sys.stderr)
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return 0 if not stopping.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
