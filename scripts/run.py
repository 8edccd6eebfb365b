"""`make run`: starts every process of the assistant on embedded defaults.

Processes: the WhatsApp Cloud API emulator with its phone simulator page, the backends
(e-District, payment sandbox, grievances), the department dashboard, the action server
and Rasa with the WhatsApp channel. Each one's output is prefixed with its name and kept
in ``var/logs/<name>.log``. "Ready" is printed only once every one of them has answered
its health check; one that exits or does not answer in time is named with the end of its
log, everything is stopped and the exit status is 1. Ctrl+C stops everything (status 0);
a process dying later stops everything too (status 1). Secrets come from the
environment; for a local run any that are unset are generated once into
var/dev-secrets.json (outside the repository).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from scripts.phone_numbers import emulator_phone_numbers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOG_DIR = ROOT / "var" / "logs"
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", "5055"))
BACKENDS_PORT = int(os.environ.get("BACKENDS_PORT", "8000"))
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "9000"))
DASHBOARD_PORT = int(os.environ.get("DASHBOARD_PORT", "8100"))
#: how long the slowest process (Rasa loading its model) may take to answer
START_SECONDS = float(os.environ.get("RUN_START_SECONDS", "300"))
#: lines of a failed process's log shown on the console
TAIL_LINES = 15
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
    "ACTION_SERVER_TOKEN",
)


@dataclasses.dataclass(frozen=True)
class Service:
    """A process of the assistant: ready when ``health`` answers 2xx."""

    name: str
    command: list[str]
    health: str
    #: what it is doing while it starts, for the progress lines
    starting: str = "starting"


def local_secrets() -> dict[str, str]:
    """Secrets for a local run: the environment's, else generated once and kept in var/."""
    path = ROOT / "var" / "dev-secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    for name in SECRETS:
        stored.setdefault(name, secrets.token_urlsafe(32))
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return {name: os.environ.get(name) or stored[name] for name in SECRETS}


def services() -> list[Service]:
    local = "http://127.0.0.1"
    return [
        Service(
            "emulator",
            [sys.executable, "-m", "whatsapp_emulator"],
            f"{local}:{EMULATOR_PORT}/health",
        ),
        Service("backends", [sys.executable, "-m", "backends"], f"{local}:{BACKENDS_PORT}/health"),
        Service(
            "dashboard", [sys.executable, "-m", "dashboard"], f"{local}:{DASHBOARD_PORT}/health"
        ),
        # the rasa-sdk server behind ACTION_SERVER_TOKEN, which Rasa sends (endpoints.yml)
        Service(
            "actions",
            [sys.executable, "-m", "ops.actions_server"],
            f"{local}:{ACTIONS_PORT}/health",
            "loading the actions",
        ),
        Service(
            "rasa",
            [
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
            # the channel's route: up once the model is loaded and the channel mounted
            f"{local}:{RASA_PORT}/webhooks/whatsapp/",
            "loading the trained model (about a minute)",
        ),
    ]


def environment(secrets: dict[str, str]) -> dict[str, str]:
    """What every process gets: the secrets and how the processes find each other."""
    return {
        **os.environ,
        **secrets,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "BACKENDS_PORT": str(BACKENDS_PORT),
        "ACTIONS_PORT": str(ACTIONS_PORT),
        "EMULATOR_PORT": str(EMULATOR_PORT),
        "DASHBOARD_PORT": str(DASHBOARD_PORT),
        "WEBHOOK_URL": f"http://127.0.0.1:{RASA_PORT}/webhooks/whatsapp/webhook",
        "WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{EMULATOR_PORT}/v21.0",
        # the main number and one per department, as credentials.yml configures them
        "PHONE_NUMBERS": emulator_phone_numbers(),
        # the channel's internal API, for the backends' notifications and the dashboard
        "CHANNEL_URL": f"http://127.0.0.1:{RASA_PORT}/webhooks/whatsapp/internal",
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{BACKENDS_PORT}"),
    }


def answers(url: str) -> bool:
    """Whether ``url`` answers 2xx within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 - our local URLs
            return 200 <= reply.status < 300
    except (OSError, urllib.error.URLError):
        return False


def ended(code: int) -> str:
    """How a process ended, from its return code (negative: the signal that killed it)."""
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


class Supervisor:
    """Starts the services, says when each is ready (or why not), stops them all."""

    def __init__(
        self,
        services: Sequence[Service],
        env: dict[str, str],
        log_dir: Path = LOG_DIR,
        out: IO[str] = sys.stdout,
        start_seconds: float = START_SECONDS,
        check: Callable[[str], bool] = answers,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.services = list(services)
        self.env = env
        self.log_dir = log_dir
        self.out = out
        self.start_seconds = start_seconds
        self.check = check
        self.clock = clock
        self.sleep = sleep
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self.tails: dict[str, collections.deque[str]] = {}
        self.pumps: list[threading.Thread] = []
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            process = subprocess.Popen(  # noqa: S603 - this project's fixed commands
                service.command,
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            self.processes[service.name] = process
            self.tails[service.name] = collections.deque(maxlen=TAIL_LINES)
            pump = threading.Thread(target=self._pump, args=(service.name, process), daemon=True)
            pump.start()
            self.pumps.append(pump)

    def _pump(self, name: str, process: subprocess.Popen[str]) -> None:
        """The process's output to the console (prefixed), its log file and its tail."""
        assert process.stdout is not None
        with open(self.log_path(name), "w", encoding="utf-8") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                self.tails[name].append(line.rstrip("\n"))
                with self.lock:
                    self.out.write(f"{name:>9} | {line}")
                    self.out.flush()

    def failure(self, name: str, why: str) -> str:
        """``why`` ``name`` failed, the end of its output and where its whole log is."""
        process = self.processes.get(name)
        if process is not None and process.poll() is not None:
            pump = self.pumps[list(self.processes).index(name)]
            pump.join(2)  # its last lines
        tail = "\n".join(f"    {line}" for line in self.tails.get(name, ()))
        return (
            f"\n{name} {why}. The end of its output:\n{tail or '    (nothing)'}\n"
            f"Its whole log: {self.log_path(name)}\n"
        )

    def wait_ready(self) -> str | None:
        """None once every service answers its health check, else why one did not."""
        started = self.clock()
        waiting = {s.name: s for s in self.services}
        reported = started
        while waiting:
            for name, service in list(waiting.items()):
                code = self.processes[name].poll()
                if code is not None:
                    return self.failure(name, f"{ended(code)} while {service.starting}")
                if self.check(service.health):
                    del waiting[name]
                    self.say(f"✓ {name} is up ({self.clock() - started:.0f} s)")
            if not waiting:
                return None
            elapsed = self.clock() - started
            if elapsed > self.start_seconds:
                name, service = next(iter(waiting.items()))
                return self.failure(
                    name,
                    f"did not answer {service.health} within {self.start_seconds:.0f} s",
                )
            if self.clock() - reported >= 15:
                reported = self.clock()
                pending = ", ".join(f"{n} ({s.starting})" for n, s in waiting.items())
                self.say(f"… {elapsed:.0f} s, still waiting for {pending}")
            self.sleep(0.5)
        return None

    def watch(self, stopping: threading.Event) -> str | None:
        """Until ``stopping`` is set (None) or a process exits (why)."""
        while not stopping.is_set():
            for name, process in self.processes.items():
                code = process.poll()
                if code is not None:
                    return self.failure(name, f"stopped unexpectedly ({ended(code)})")
            stopping.wait(0.5)
        return None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for pump in self.pumps:
            pump.join(2)


def run(supervisor: Supervisor, stopping: threading.Event, on_ready: Callable[[], None]) -> int:
    """0 after Ctrl+C / SIGTERM, 1 when a process failed to start or died."""
    try:
        supervisor.start()
        problem = supervisor.wait_ready()
        if problem is None:
            on_ready()
            problem = supervisor.watch(stopping)
    except KeyboardInterrupt:
        problem = None
    finally:
        supervisor.stop()
    if problem is not None:
        print(problem + "Stopped everything.", file=sys.stderr, flush=True)
        return 1
    return 0


def main() -> int:
    (ROOT / "var").mkdir(exist_ok=True)
    env = environment(local_secrets())
    # Demo staff accounts for the dashboard; their passwords go to var/dev-secrets.json.
    seeded = subprocess.run(  # noqa: S603 - this project's fixed command
        [sys.executable, "-m", "dashboard.seed"], cwd=ROOT, env=env, check=False
    )
    if seeded.returncode != 0:
        print("The dashboard's demo accounts could not be created (see above).", file=sys.stderr)
        return 1
    page = f"http://127.0.0.1:{EMULATOR_PORT}/"
    print(
        f"\nStarting {len(services())} processes (logs in {LOG_DIR}); Rasa takes about a "
        "minute to load its model. Ctrl+C stops everything.\n",
        flush=True,
    )

    def ready() -> None:
        print(
            f"\nReady: chat with the assistant as a citizen in the phone simulator:\n"
            f"  {page}\n"
            f"The department dashboard: http://127.0.0.1:{DASHBOARD_PORT}/ "
            "(demo accounts: see above)\nCtrl+C stops everything.\n",
            flush=True,
        )
        if os.environ.get("DISPLAY") or sys.platform == "darwin":
            webbrowser.open(page)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    return run(Supervisor(services(), env), stopping, ready)


if __name__ == "__main__":
    sys.exit(main())
