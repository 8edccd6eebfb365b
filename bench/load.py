"""Load benchmark: citizens write at a target rate through the whole WhatsApp path.

emulator (signed webhooks) -> our connector -> Rasa -> action server -> backends ->
emulator (Graph API).

``--mix realistic`` (the default): scripted citizens doing whole journeys in Hindi,
English and Hinglish (bench/traffic.py: apply with real-sized photos and pay, status,
grievance, certificate download, free questions, chit-chat). Reported per turn type:
p50/p95/p99 from the message handed to the emulator to the channel having finished it;
sustained msg/s; lost and duplicated; CPU-ms per message and peak RSS for each process
(Rasa with the channel in it, action server, backends, emulator, load generator, and on
the production profile PostgreSQL and Redis); the load average and CPU count.

``--mix chitchat``: the old mix (thanks, bye, bot challenge: one reply each), and in the
same run Rasa's stock REST channel on the same model and action server, for the ratio.

    make bench-load                                   # realistic mix, 60 msg/s for 60 s
    python -m bench.load --rate 20 --seconds 20       # a quicker look
    python -m bench.load --mix chitchat --rate 80     # the old figures, with stock REST
    python -m bench.load --duplicates 3               # Meta delivering each webhook 3 times
    make bench-load-prod                              # production profile, 1 vs 2 workers
    python -m bench.load --production --workers 1,2 --rate 60 --seconds 60

With ``--production`` the same load runs against the production profile
(``endpoints.prod.yml``: PostgreSQL tracker store, event broker, channel and backends
databases, Redis lock store, on a throw-away PostgreSQL cluster and Redis of their own)
once per worker count, the Rasa processes behind a round-robin load balancer; memory is
each Rasa process's peak RSS.

In the chit-chat mix every message has exactly one reply, so a missing reply is "lost"
and a second reply "duplicated". In the realistic mix a turn not finished within 120 s is
lost, and duplicated = messages the emulator received from the business number minus the
replies and notifications the channel recorded as sent (each exactly once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.processes import peak_rss_mb, percentile

MESSAGES = [
    "thank you so much",
    "धन्यवाद जी",
    "shukriya bhai",
    "are you a bot?",
    "क्या आप रोबोट हैं",
    "kya tum robot ho",
    "bye",
    "अलविदा",
]
NUMBER_ID = "100001"


@dataclass
class Run:
    name: str
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    errors: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0
    per_process_mb: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)

    def row(self) -> str:
        throughput = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (
            f"{self.name:<22}{self.sent:>7}{throughput:>10.1f}{self.percentile(50):>9.0f}"
            f"{self.percentile(95):>9.0f}{self.percentile(99):>9.0f}{self.lost:>7}"
            f"{self.duplicated:>7}{self.errors:>7}{self.peak_mb:>9.0f}"
        )


def citizen(i: int) -> str:
    return f"9198{i:08d}"


async def whatsapp_run(emulator_url: str, rate: float, seconds: float, citizens: int) -> Run:
    run = Run("whatsapp connector")
    pending: dict[str, deque[float]] = defaultdict(deque)
    done = asyncio.Event()

    async def listen(session: aiohttp.ClientSession, ready: asyncio.Event) -> None:
        async with session.get(f"{emulator_url}/simulator/events", timeout=None) as response:
            ready.set()
            async for raw in response.content:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                entry = event.get("entry") or {}
                if event.get("event") != "message" or entry.get("direction") != "out":
                    continue
                queue = pending.get(str(entry.get("wa_id")))
                if queue:
                    run.latencies.append(time.monotonic() - queue.popleft())
                else:
                    run.duplicated += 1
                if done.is_set() and not any(pending.values()):
                    return

    async with aiohttp.ClientSession() as session:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(session, ready))
        await ready.wait()
        start = time.monotonic()
        total = int(rate * seconds)

        async def send(i: int) -> None:
            wa_id = citizen(i % citizens)
            pending[wa_id].append(time.monotonic())
            body = {
                "from": wa_id,
                "to": NUMBER_ID,
                "type": "text",
                "text": MESSAGES[i % len(MESSAGES)],
            }
            try:
                async with session.post(f"{emulator_url}/simulator/send", json=body) as answer:
                    if answer.status != 200:
                        run.errors += 1
            except aiohttp.ClientError:
                run.errors += 1

        tasks = []
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(i)))
        await asyncio.gather(*tasks)
        run.sent = total
        done.set()
        try:
            await asyncio.wait_for(asyncio.shield(listener), timeout=180)
        except asyncio.TimeoutError:
            listener.cancel()
        run.seconds = time.monotonic() - start
        run.lost = sum(len(q) for q in pending.values())
    return run


async def rest_run(rest_url: str, rate: float, seconds: float, citizens: int) -> Run:
    run = Run("stock REST channel")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        start = time.monotonic()
        total = int(rate * seconds)

        async def send(i: int) -> None:
            body = {
                "sender": f"rest{citizen(i % citizens)}",
                "message": MESSAGES[i % len(MESSAGES)],
            }
            began = time.monotonic()
            try:
                async with session.post(f"{rest_url}/webhooks/rest/webhook", json=body) as answer:
                    replies = await answer.json(content_type=None)
                    if answer.status != 200:
                        run.errors += 1
                    elif not replies:
                        run.lost += 1
                    else:
                        run.latencies.append(time.monotonic() - began)
                        run.duplicated += max(0, len(replies) - 1)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                run.errors += 1

        tasks = []
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(i)))
        await asyncio.gather(*tasks)
        run.sent = total
        run.seconds = time.monotonic() - start
    return run


# ----------------------------------------------------------------------- realistic mix
@dataclass
class Measured:
    """One realistic-mix run on one configuration."""

    name: str
    results: Any  # bench.traffic.Results
    cpu_ms: dict[str, float]
    peak_mb: dict[str, float]
    duplicated: int
    seconds: float
    machine: str


def realistic_run(
    name: str,
    stack: Any,
    channel_db_url: str,
    groups: dict[str, list[int]],
    args: argparse.Namespace,
    rest_url: str = "",
) -> Measured:
    from tqdm import tqdm

    from bench.processes import CpuMeter, machine
    from bench.traffic import JOURNEYS, TEXT_JOURNEYS, Traffic

    journeys = TEXT_JOURNEYS if args.mix == "text" else JOURNEYS
    url = stack.emulator.url
    warm = Traffic(url, channel_db_url, stack.backend, journeys, prefix="9196", rest_url=rest_url)
    asyncio.run(warm.run(rate=4, seconds=8))
    print(f"{name} warm-up: {warm.results.completed()} turns", flush=True)
    traffic = Traffic(url, channel_db_url, stack.backend, journeys, rest_url=rest_url)
    expected = int(args.rate * args.seconds)
    meter = CpuMeter({**groups, "load generator": [os.getpid()]})
    machine_before = machine()
    meter.start()
    began = time.monotonic()
    with tqdm(
        total=expected, desc=name, unit="msg", leave=False, disable=not sys.stderr.isatty()
    ) as bar:
        results = asyncio.run(traffic.run(args.rate, args.seconds, progress=bar))
    elapsed = time.monotonic() - began
    meter.stop()
    return Measured(
        name=name,
        results=results,
        cpu_ms=meter.cpu_ms(),
        peak_mb=meter.peak_mb(),
        duplicated=-1 if rest_url else duplicated_replies(stack.emulator.url, channel_db_url),
        seconds=elapsed,
        machine=f"before the run: {machine_before}; after: {machine()}",
    )


def duplicated_replies(emulator_url: str, channel_db_url: str) -> int:
    """Messages the emulator got from the business minus those the channel sent once."""
    import requests
    import sqlalchemy as sa

    stats = requests.get(f"{emulator_url}/emulator/stats", timeout=30).json()
    engine = sa.create_engine(channel_db_url)
    with engine.connect() as db:
        replies = db.execute(sa.text("SELECT count(*) FROM whatsapp_replies")).scalar_one()
        notified = db.execute(
            sa.text("SELECT count(*) FROM whatsapp_notifications WHERE state = 'sent'")
        ).scalar_one()
    engine.dispose()
    return int(stats["messages_outbound"]) - int(replies) - int(notified)


def port_of(url: str) -> int:
    from urllib.parse import urlparse

    return int(urlparse(url).port or 80)


def stack_groups(stack: Any) -> dict[str, list[int]]:
    from bench.processes import listening_pid

    def pid(url: str) -> list[int]:
        found = listening_pid(port_of(url))
        return [found] if found else []

    return {
        "Rasa + channel": list(stack.rasa_pids),
        "action server": pid(stack.actions_url),
        "backends": pid(stack.backend.url),
        "emulator": pid(stack.emulator.url),
    }


def print_measured(runs: list[Measured], args: argparse.Namespace) -> None:
    for run in runs:
        r = run.results
        mix = "text turns of the realistic mix" if args.mix == "text" else "realistic mix"
        print(
            f"\n## {run.name}: {mix}, target {args.rate:.0f} msg/s for "
            f"{args.seconds:.0f} s ({run.machine})"
        )
        print(
            f"sent {r.sent} messages, {r.completed()} turns finished in {run.seconds:.0f} s: "
            f"{r.messages_per_second():.1f} msg/s sustained; lost {r.lost}, failed {r.failed}, "
            f"duplicated {run.duplicated if run.duplicated >= 0 else 'n/a'}; journeys finished "
            f"{sum(r.journeys_done.values())}/{sum(r.journeys_started.values())}"
        )
        if r.script_errors:
            print(f"script errors (the bot said something else): {dict(r.script_errors)}")
            for example in r.error_examples:
                print(f"  - {example}")
        print(f"{'turn type':<18}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        every: list[float] = []
        for turn, values in sorted(r.turns.items(), key=lambda kv: -len(kv[1])):
            if not turn.startswith("pay"):
                every += values
            print(
                f"{turn:<18}{len(values):>7}{percentile(values, 50):>9.0f}"
                f"{percentile(values, 95):>9.0f}{percentile(values, 99):>9.0f}"
            )
        print(
            f"{'all messages':<18}{len(every):>7}{percentile(every, 50):>9.0f}"
            f"{percentile(every, 95):>9.0f}{percentile(every, 99):>9.0f}"
        )
        messages = max(1, r.completed())
        print(f"\n{'process':<18}{'CPU s':>8}{'CPU-ms/msg':>12}{'peak RSS MB':>13}")
        for group, ms in run.cpu_ms.items():
            print(
                f"{group:<18}{ms / 1000:>8.1f}{ms / messages:>12.1f}"
                f"{run.peak_mb.get(group, 0.0):>13.0f}"
            )
        total = sum(v for k, v in run.cpu_ms.items() if k != "load generator")
        print(f"{'system (no load gen.)':<18}{total / 1000:>5.1f}{total / messages:>12.1f}")


def production_runs(args: argparse.Namespace) -> list[Any]:
    from tests.support.services import private_postgres, private_redis, production_env
    from tests.support.stack import running_stack

    runs: list[Any] = []
    for workers in [int(w) for w in args.workers.split(",")]:
        with (
            tempfile.TemporaryDirectory() as tmp,
            private_postgres() as postgres,
            private_redis(Path(tmp) / "redis") as redis_url,
        ):
            env = production_env(postgres, redis_url)
            with running_stack(Path(tmp), production=env, rasa_instances=workers) as stack:
                # Meta delivers webhooks concurrently; one at a time would cap the balancer
                stack.emulator.configure(delivery_concurrency=8, duplicates=args.duplicates)
                name = f"prod, {workers} worker" + ("s" if workers > 1 else "")
                if args.mix == "realistic":
                    from bench.processes import listening_pid

                    groups = stack_groups(stack)
                    groups["PostgreSQL"] = [listening_pid(postgres.port) or 0]
                    groups["Redis"] = [listening_pid(port_of(redis_url)) or 0]
                    measured = realistic_run(name, stack, env["WHATSAPP_DB_URL"], groups, args)
                    runs.append(measured)
                    print_measured([measured], args)
                    continue
                warm = asyncio.run(whatsapp_run(stack.emulator.url, 10, 2, 10))
                print(f"{workers} worker(s) warm-up: {len(warm.latencies)} replies", flush=True)
                result = asyncio.run(
                    whatsapp_run(stack.emulator.url, args.rate, args.seconds, args.citizens)
                )
                result.name = name
                result.per_process_mb = [peak_rss_mb(pid) for pid in stack.rasa_pids]
                result.peak_mb = sum(result.per_process_mb)
                runs.append(result)
                print(result.row(), flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--mix",
        choices=("realistic", "text", "chitchat"),
        default="realistic",
        help="text: the realistic mix's text turns, also on Rasa's stock REST channel",
    )
    parser.add_argument("--rate", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--citizens", type=int, default=400, help="chit-chat mix only")
    parser.add_argument("--duplicates", type=int, default=1, help="webhook copies Meta sends")
    parser.add_argument("--no-rest", action="store_true")
    parser.add_argument(
        "--production", action="store_true", help="production profile (PostgreSQL, Redis)"
    )
    parser.add_argument("--workers", default="1,2", help="Rasa worker counts to compare")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # stopped with SIGTERM: still stop every child process and drop the throw-away cluster
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from bench.processes import machine
    from tests.support.stack import running_stack

    print(f"# bench.load {' '.join(sys.argv[1:])}: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"machine at start: {machine()}", flush=True)
    if args.production:
        runs = production_runs(args)
    elif args.mix in ("realistic", "text"):
        runs = realistic_standard_runs(args, running_stack)
    else:
        runs = standard_runs(args, running_stack)
    if args.mix in ("realistic", "text"):
        print("\n# summary")
        print_measured(runs, args)
        if args.production and len(runs) == 2:
            fewer, more = (r.results for r in runs)
            print(
                f"\n{runs[1].name} / {runs[0].name}: sustained "
                f"{more.messages_per_second() / max(fewer.messages_per_second(), 1e-9):.2f}×"
            )
        elif len(runs) == 2:
            ours, rest = (r.results for r in runs)
            every = [v for k, vs in ours.turns.items() for v in vs if not k.startswith("pay")]
            rest_every = [v for vs in rest.turns.values() for v in vs]
            print(
                f"\nWhatsApp connector / stock REST, same model, mix and rate: sustained "
                f"{ours.messages_per_second() / max(rest.messages_per_second(), 1e-9):.2f}×, "
                f"p95 {percentile(rest_every, 95) / max(percentile(every, 95), 1e-9):.2f}× lower"
            )
        return
    print()
    print(f"machine at the end: {machine()}")
    print(
        f"target {args.rate:.0f} msg/s for {args.seconds:.0f} s, {args.citizens} citizens, "
        f"webhook copies {args.duplicates}; latency = message handed over -> reply received"
    )
    print(
        f"{'channel':<22}{'sent':>7}{'msg/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'lost':>7}{'dup':>7}{'errors':>7}{'peak MB':>9}"
    )
    for run in runs:
        print(run.row())
    for run in runs:
        if len(run.per_process_mb) > 1:
            each = ", ".join(f"{mb:.0f}" for mb in run.per_process_mb)
            print(f"{run.name}: peak RSS per Rasa process {each} MB")
    if not args.production and len(runs) == 2 and runs[1].latencies and runs[0].latencies:
        ratio = statistics.median(runs[0].latencies) / statistics.median(runs[1].latencies)
        print(
            f"\np50 latency whatsapp/REST = {ratio:.2f} (the connector's path also includes "
            "the emulator's Graph API and webhook hop)"
        )


def realistic_standard_runs(args: argparse.Namespace, running_stack: Any) -> list[Measured]:
    rest = args.mix == "text" and not args.no_rest
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), with_rest=rest) as stack:
        if args.duplicates > 1:
            stack.emulator.configure(duplicates=args.duplicates)
        db = f"sqlite:///{stack.whatsapp_db}"
        runs = [realistic_run("SQLite, 1 worker", stack, db, stack_groups(stack), args)]
        print_measured(runs[-1:], args)
        if rest and stack.rest_url and stack.rest_pid:
            groups = {**stack_groups(stack), "Rasa + channel": [stack.rest_pid]}
            runs.append(
                realistic_run("stock REST, 1 worker", stack, "", groups, args, stack.rest_url)
            )
            print_measured(runs[-1:], args)
        return runs


def standard_runs(args: argparse.Namespace, running_stack: Any) -> list[Run]:
    runs = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), with_rest=not args.no_rest) as stack,
    ):
        if args.duplicates > 1:
            stack.emulator.configure(duplicates=args.duplicates)
        warm = asyncio.run(whatsapp_run(stack.emulator.url, 10, 2, 10))
        print(f"warm-up: {len(warm.latencies)} replies", flush=True)
        result = asyncio.run(
            whatsapp_run(stack.emulator.url, args.rate, args.seconds, args.citizens)
        )
        result.peak_mb = peak_rss_mb(stack.rasa_pid)
        runs.append(result)
        if stack.rest_url and stack.rest_pid:
            asyncio.run(rest_run(stack.rest_url, 10, 2, 10))
            rest = asyncio.run(rest_run(stack.rest_url, args.rate, args.seconds, args.citizens))
            rest.peak_mb = peak_rss_mb(stack.rest_pid)
            runs.append(rest)
    return runs


if __name__ == "__main__":
    main()
