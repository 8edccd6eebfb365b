"""Background jobs that scale out (issue 13, item 12).

Each job is a run-once command (``python -m backends.jobs NAME``) that skips while
another process holds its lock (a PostgreSQL advisory lock, a file lock on SQLite), so
a CronJob and the loops of several replicas never run it at once; two replicas on one
PostgreSQL database, both looping over every job, send one reminder and escalate a
grievance once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from backends.db import Database, Event, Grievance
from backends.jobs import JOBS
from ops.locks import database_lock
from tests.support.backends import (
    Backend,
    channel_settings,
    environment_for,
    fake_channel,
    running_backend,
    set_clock,
)
from tests.support.processes import free_port
from tests.support.services import Postgres, private_postgres
from tests.test_backends_grievances import COMPLAINT, new_citizen
from tests.test_backends_payments import pending_application, wait_for

ROOT = Path(__file__).resolve().parent.parent
#: 11:00 IST: daytime, so no reminder waits for the morning
MORNING = datetime(2026, 12, 8, 5, 30)
ESCALATED = "grievance.escalated"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with private_postgres() as pg:
        yield pg


def overdue_grievance(db: Database, grievance_id: str, now: datetime) -> None:
    db.run(
        lambda s: s.add(
            Grievance(
                id=grievance_id,
                citizen_id="919800000042",
                category="water",
                department="djb",
                description="No water since Monday",
                language="en",
                status="open",
                escalation_level=0,
                due_at=now - timedelta(days=1),
                created_at=now - timedelta(days=4),
                updated_at=now - timedelta(days=4),
            )
        )
    )


def job(directory: Path, db_url: str, name: str) -> dict[str, Any]:
    env = {**os.environ, **environment_for(directory, free_port()), "BACKENDS_DB_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "backends.jobs", name],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def level(db: Database, grievance_id: str) -> int:
    return int(db.run(lambda s: s.get(Grievance, grievance_id).escalation_level))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_job_another_process_runs_is_skipped_then_runs_once(database, tmp_path, request):
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'backends.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database("jobs_once")
    db = Database(url)
    db.create_all()
    overdue_grievance(db, "GRV-2026-000001", datetime.utcnow())
    try:
        # a replica's loop (or last minute's CronJob) is still running the job
        with database_lock(db.engine, "job:escalate-grievances") as held:
            assert held
            skipped = job(tmp_path, url, "escalate-grievances")
        assert skipped == {"job": "escalate-grievances", "ran": False, "result": None}
        assert level(db, "GRV-2026-000001") == 0

        ran = job(tmp_path, url, "escalate-grievances")
        assert ran == {"job": "escalate-grievances", "ran": True, "result": ["GRV-2026-000001"]}
        assert job(tmp_path, url, "escalate-grievances")["result"] == []  # once per breach
        assert level(db, "GRV-2026-000001") == 1
    finally:
        db.dispose()


def test_unknown_jobs_are_refused_and_listed():
    listed = subprocess.run(
        [sys.executable, "-m", "backends.jobs", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.stdout.split() == [
        "reconcile-payments",
        "escalate-grievances",
        "outbox",
        "reminders",
        "dispatch-notifications",
        "sync-statuses",
        "retention",
    ]
    wrong = subprocess.run(
        [sys.executable, "-m", "backends.jobs", "remind"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 2 and "unknown job(s): remind" in wrong.stderr


def test_two_replicas_on_postgres_do_each_job_once(postgres, tmp_path):
    url = postgres.create_database("jobs_replicas")
    shared = tmp_path / "shared"  # one clock for both replicas
    set_clock(shared, MORNING)
    citizen = new_citizen()
    with fake_channel() as channel:
        settings = {
            **channel_settings(channel, shared),
            "BACKENDS_DB_URL": url,
            "ESCALATION_INTERVAL_SECONDS": "0.1",
            "REMINDER_INTERVAL_SECONDS": "0.1",
            "OUTBOX_INTERVAL_SECONDS": "0.1",
        }
        with (
            running_backend(tmp_path / "a", **settings) as a,
            running_backend(tmp_path / "b", **settings) as b,
        ):
            app_id = pending_application(a, citizen)["application_id"]  # a fee reminder
            filed = requests.post(
                f"{b.url}/grievances", json=COMPLAINT, headers=b.citizen(citizen), timeout=10
            )
            assert filed.status_code == 201, filed.text
            grievance_id = filed.json()["grievance_id"]
            assert wait_for(lambda: reminders_of(a, app_id))

            # the fee reminder falls due and the grievance passes its due time
            set_clock(shared, MORNING + timedelta(days=8, hours=1))
            assert wait_for(lambda: reminder_sent(channel, citizen), seconds=20)
            time.sleep(2)  # about 20 rounds of every job in each replica

            assert reminder_sent(channel, citizen) == 1
            db = Database(url)
            try:
                escalations = db.run(
                    lambda s: s.scalar(
                        sa.select(sa.func.count())
                        .select_from(Event)
                        .where(
                            Event.subject_id == grievance_id, Event.type == "grievance.escalated"
                        )
                    )
                )
                assert (level(db, grievance_id), escalations) == (1, 1)
            finally:
                db.dispose()
            assert [r["sent"] for r in reminders_of(b, app_id)] == [1]
            for replica in (a, b):
                assert "Traceback" not in replica.log()


def reminders_of(backend: Backend, app_id: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{backend.url}/reminders",
        params={"application_id": app_id},
        headers=backend.officer(),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json()["reminders"] if r["kind"] == "fee_unpaid"]


def reminder_sent(channel: Any, citizen: str) -> int:
    return [body["template"] for body in channel.to(citizen)].count("reminder_fee_unpaid")


def test_kubernetes_runs_every_job_once_with_two_backends_replicas():
    from tests.test_prod_deploy import manifests

    docs = manifests()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    backends = deployments["backends"]
    assert backends["spec"]["replicas"] >= 2
    [container] = backends["spec"]["template"]["spec"]["containers"]
    env = {v["name"]: v for v in container["env"]}
    looped = env["BACKENDS_JOBS"]["value"].split(",")
    cron = [d for d in docs if d["kind"] == "CronJob"]
    scheduled: list[str] = []
    for job in cron:
        spec = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        [runner] = spec["containers"]
        assert runner["command"][:3] == ["python", "-m", "backends.jobs"]
        scheduled += runner["command"][3:]
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        assert spec["restartPolicy"] == "Never" and runner["resources"]["limits"]["memory"]
        # the CronJob pods may reach PostgreSQL
        assert job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] == {
            "app": "backends-jobs"
        }
        if "retention" not in runner["command"]:  # the backends' settings, all of them
            mine = {v["name"] for v in runner["env"]}
            missing = set(env) - mine - {"BACKENDS_HOST", "BACKENDS_PORT", "BACKENDS_JOBS"}
            assert not missing, f"{job['metadata']['name']} lacks {sorted(missing)}"
    assert sorted(looped + scheduled) == sorted(JOBS), "every job runs, each in one place"
    [postgres_policy] = [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "postgres-from-app"
    ]
    allowed = [
        p["podSelector"]["matchLabels"] for p in postgres_policy["spec"]["ingress"][0]["from"]
    ]
    assert {"app": "backends-jobs"} in allowed
    # the schema upgrade is a step of its own for every database we own, under a lock
    for name, history in (
        ("backends", "backends"),
        ("dashboard", "dashboard"),
        ("rasa", "channel"),
    ):
        spec = deployments[name]["spec"]["template"]["spec"]
        [migrate] = spec["initContainers"]
        assert migrate["command"] == ["python", "-m", "ops.migrate", "upgrade", history]
        envs = {v["name"]: v.get("value") for v in spec["containers"][0]["env"]}
        assert envs["SCHEMA_UPGRADE_ON_START"] == "0", name
