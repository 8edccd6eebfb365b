"""The backends' background jobs: each a run-once function that any replica, a
Kubernetes CronJob or any scheduler may call, done by one process at a time.

    python -m backends.jobs reconcile-payments     # one run; settings from the environment
    python -m backends.jobs --list

| job | one run | in-process every (seconds) |
| --- | --- | --- |
| ``reconcile-payments`` | settle orders no webhook settled | ``RECONCILE_INTERVAL_SECONDS`` |
| ``escalate-grievances`` | escalate overdue grievances | ``ESCALATION_INTERVAL_SECONDS`` |
| ``outbox`` | events to notifications until all are read | ``OUTBOX_INTERVAL_SECONDS`` |
| ``reminders`` | queue the reminders that are due | ``REMINDER_INTERVAL_SECONDS`` |
| ``dispatch-notifications`` | send until none is due | ``OUTBOX_INTERVAL_SECONDS`` |
| ``sync-statuses`` | WhatsApp delivery statuses | ``STATUS_SYNC_INTERVAL_SECONDS`` |
| ``retention`` | the channel's expired data (``connectors.retention``) | never: daily |

A run holds the job's lock on its database (``ops.locks``: ``pg_try_advisory_lock`` on
PostgreSQL, a file lock on SQLite): while one process runs a job, every other skips
it, so two replicas with loops (``BACKENDS_JOBS``) and a CronJob never run it twice at
once. Each run is also safe to repeat (rows carry versions, cursors and claims).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from backends import grievances, notifications, outbox, payments, reminders
from backends.config import ConfigError, Settings
from backends.db import clock, utcnow
from backends.web import Context
from ops.locks import database_lock

log = logging.getLogger(__name__)


async def reconcile_payments(ctx: Context) -> list[str]:
    work = functools.partial(ctx.db.run, lambda s: payments.reconcile_due(s, ctx, utcnow()))
    # Razorpay's status API is HTTP: off the event loop (the sandbox's is a query).
    if ctx.settings.payment_gateway == "sandbox":
        return work()
    return await asyncio.to_thread(work)


async def escalate_grievances(ctx: Context) -> list[str]:
    return ctx.db.run(lambda s: grievances.escalate_due(s, ctx, utcnow()))


async def process_outbox(ctx: Context) -> int:
    """Rounds until the outbox is read (a round reads up to ``outbox.BATCH`` events)."""
    total = 0
    while True:
        try:
            read = ctx.db.run(lambda s: outbox.process(s, ctx, clock.now().replace(microsecond=0)))
        except outbox._CursorMoved:  # another process read these first
            return total
        total += read
        if read < outbox.BATCH:
            return total


async def send_reminders(ctx: Context) -> int:
    return ctx.db.run(lambda s: reminders.run_due(s, ctx, utcnow()))


async def dispatch_notifications(ctx: Context) -> int:
    """Send every due notification, as it falls due, until none is due or in flight."""
    sender = notifications.Sender(ctx)
    claimed = 0
    try:
        while True:
            sender.flush()
            rows = []
            if len(sender.in_flight) < notifications.IN_FLIGHT:
                rows = ctx.db.run(
                    lambda s: notifications.claim_due(s, clock.now(), notifications.BATCH)
                )
                for row in rows:
                    sender.spawn(row)
                claimed += len(rows)
            if not rows and not sender.in_flight:
                return claimed
            await asyncio.sleep(notifications.FLUSH_SECONDS)
    finally:
        for task in list(sender.in_flight):
            task.cancel()
        sender.flush()
        await sender.channel.close()


async def sync_statuses(ctx: Context) -> int:
    """One round of delivery statuses from the channel; how many notifications changed."""
    rows = ctx.db.run(lambda s: notifications._to_check(s, clock.now()))
    if not rows:
        return 0
    channel = notifications.Channel(ctx)
    try:
        status, answer = await channel.post("/statuses", {"ids": [m for _, m in rows]})
    except notifications.ChannelDown:
        log.info("status sync: channel unavailable; will retry")
        return 0
    finally:
        await channel.close()
    statuses = answer.get("statuses") if status == 200 else None
    if not isinstance(statuses, dict):
        log.warning("status sync: unexpected answer %d", status)
        return 0
    now = clock.now().replace(microsecond=0)
    return ctx.db.run(
        functools.partial(notifications.record_statuses, rows=rows, statuses=statuses, now=now)
    )


async def channel_retention(ctx: Context | None) -> dict[str, int]:
    from connectors import retention  # the channel's database (WHATSAPP_DB_URL)

    return await asyncio.to_thread(retention.run_once)


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Any], Awaitable[Any]]  # given the Context (None for a channel job)
    #: seconds between in-process runs; None: not run in-process (a scheduler's job)
    interval: Callable[[Settings], float] | None
    #: needs the channel's internal API (CHANNEL_URL and WHATSAPP_INTERNAL_TOKEN)
    channel: bool = False
    #: in-process loops wait one interval before the first run
    wait_first: bool = False
    #: the database its lock is taken on: the backends' (None) or the channel's
    lock_url: Callable[[], str] | None = None


def _channel_db_url() -> str:
    from connectors import retention

    return retention._db_url()


JOBS = {
    job.name: job
    for job in (
        Job(
            "reconcile-payments",
            reconcile_payments,
            lambda s: s.reconcile_interval_seconds,
            wait_first=True,
        ),
        Job("escalate-grievances", escalate_grievances, lambda s: s.escalation_interval_seconds),
        Job("outbox", process_outbox, lambda s: s.outbox_interval_seconds),
        Job("reminders", send_reminders, lambda s: s.reminder_interval_seconds),
        Job(
            "dispatch-notifications",
            dispatch_notifications,
            lambda s: s.outbox_interval_seconds,
            channel=True,
        ),
        Job(
            "sync-statuses",
            sync_statuses,
            lambda s: s.status_sync_interval_seconds,
            channel=True,
            wait_first=True,
        ),
        Job("retention", channel_retention, None, lock_url=_channel_db_url),
    )
}
#: what ``BACKENDS_BACKGROUND_TASKS=0`` keeps running in-process
ALWAYS = ("reconcile-payments", "escalate-grievances")


def in_process(settings: Settings) -> list[str]:
    """The jobs this replica loops over (``BACKENDS_JOBS``: ``all``, ``none`` or names)."""
    wanted = settings.jobs.strip()
    if wanted == "all":
        names = [n for n, job in JOBS.items() if job.interval is not None]
    elif wanted in ("", "none"):
        names = []
    else:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        unknown = sorted(set(names) - set(JOBS))
        if unknown:
            raise ConfigError(f"BACKENDS_JOBS names unknown jobs: {', '.join(unknown)}")
    if not settings.background_tasks:
        names = [n for n in names if n in ALWAYS]
    if not (settings.channel_url and settings.internal_token):
        skipped = [n for n in names if JOBS[n].channel]
        if skipped:
            log.warning(
                "CHANNEL_URL or WHATSAPP_INTERNAL_TOKEN is not set: notifications are "
                "queued but not sent"
            )
        names = [n for n in names if not JOBS[n].channel]
    return names


async def run_once(ctx: Context | None, name: str) -> tuple[bool, Any]:
    """One run of job ``name`` unless another process is running it: (ran, result)."""
    job = JOBS[name]
    if job.lock_url is None:
        assert ctx is not None, name
        engine = ctx.db.engine
        with database_lock(engine, f"job:{name}") as held:
            return (True, await job.run(ctx)) if held else (False, None)
    import sqlalchemy as sa

    engine = sa.create_engine(job.lock_url())
    try:
        with database_lock(engine, f"job:{name}") as held:
            return (True, await job.run(ctx)) if held else (False, None)
    finally:
        engine.dispose()


async def loop(ctx: Context, name: str) -> None:
    """Run job ``name`` every interval in this process (skipped while another runs it)."""
    job = JOBS[name]
    assert job.interval is not None, name
    interval = job.interval(ctx.settings)
    if job.wait_first:
        await asyncio.sleep(interval)
    while True:
        try:
            await run_once(ctx, name)
        except Exception:
            log.exception("job %s failed; will retry", name)
        await asyncio.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backends.jobs", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(JOBS))
    parser.add_argument("--list", action="store_true", help="print the jobs' names")
    args = parser.parse_args(argv)
    if args.list or not args.names:
        print("\n".join(JOBS))
        return 0 if args.list else 2
    unknown = [n for n in args.names if n not in JOBS]
    if unknown:
        parser.error(f"unknown job(s): {', '.join(unknown)}; one of {', '.join(JOBS)}")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx: Context | None = None
    if any(JOBS[n].lock_url is None for n in args.names):  # a job of the backends' database
        from backends.config import from_env
        from backends.db import Database
        from service_catalogue import load

        try:
            settings = from_env()
        except ConfigError as exc:
            print(f"backends.jobs: {exc}", file=sys.stderr)
            return 2
        clock.offset_file = settings.clock_offset_file
        ctx = Context(settings=settings, db=Database(settings.db_url), catalogue=load())
        ctx.db.schema_on_start()
    status = 0

    async def run_all() -> None:
        nonlocal status
        for name in args.names:
            try:
                ran, result = await run_once(ctx, name)
            except Exception:
                log.exception("job %s failed", name)
                status = 1
                continue
            print(json.dumps({"job": name, "ran": ran, "result": result}, default=str))

    try:
        asyncio.run(run_all())
    finally:
        if ctx is not None:
            ctx.db.dispose()
    return status


if __name__ == "__main__":
    sys.exit(main())
