"""Deployment files and the production endpoints, checked as a reviewer would (Docker and
Kubernetes cannot run here), and the backup/restore procedure run once for real."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.utils import AvailableEndpoints
from rasa.shared.exceptions import RasaException

from connectors.store import ChannelStore
from tests.support.services import private_postgres

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|_KEY|DB_URL")


def compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def manifests():
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_every_compose_service_has_a_healthcheck_and_resource_limits():
    services = compose()["services"]
    assert {"rasa", "actions", "backends", "dashboard", "postgres", "redis"} <= set(services)
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
        limits = service["deploy"]["resources"]["limits"]
        assert limits["cpus"] and limits["memory"], name
    assert services["rasa"]["deploy"]["replicas"] >= 2


def test_compose_holds_no_secret_and_exposes_only_the_gateway():
    services = compose()["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert "${" in str(value), f"{name}.{key} is a literal secret"
        if name != "gateway":
            assert "ports" not in service, f"{name} publishes a port"
    assert services["actions"]["networks"] == ["internal"]
    assert compose()["networks"]["internal"]["internal"] is True
    assert "--enable-api" not in services["rasa"]["command"]
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if "# SECRET" in line:
            assert line.split("=", 1)[1].split("#")[0].strip() == "", line


def test_kubernetes_workloads_have_probes_limits_and_secret_references():
    workloads = [d for d in manifests() if d["kind"] in ("Deployment", "StatefulSet")]
    names = {d["metadata"]["name"] for d in workloads}
    assert {"rasa", "actions", "backends", "dashboard", "postgres", "redis"} <= names
    assert not [d for d in manifests() if d["kind"] == "Secret"], "secrets are not in git"
    for workload in workloads:
        for container in workload["spec"]["template"]["spec"]["containers"]:
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert container.get("readinessProbe") and container.get("livenessProbe"), where
            assert container["resources"]["limits"]["cpu"], where
            assert container["resources"]["limits"]["memory"], where
            for variable in container.get("env", []):
                if SECRET_NAME.search(variable["name"]):
                    assert "value" not in variable, f"{where}: {variable['name']} literal"
                    assert variable["valueFrom"].get("secretKeyRef"), where
    rasa = next(d for d in workloads if d["metadata"]["name"] == "rasa")
    assert rasa["spec"]["replicas"] >= 2
    assert "--enable-api" not in rasa["spec"]["template"]["spec"]["containers"][0]["command"]


def test_the_action_server_is_reachable_from_rasa_only():
    docs = manifests()
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    assert services["actions"]["spec"]["type"] == "ClusterIP"
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert any(p["spec"]["podSelector"] == {} for p in policies), "default deny"
    [actions] = [
        p for p in policies if p["spec"]["podSelector"].get("matchLabels") == {"app": "actions"}
    ]
    assert actions["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app": "rasa"}}}],
            "ports": [{"port": 5055, "protocol": "TCP"}],
        }
    ]


PRODUCTION_ENV = {
    "ACTION_SERVER_URL": "http://actions:5055/webhook",
    "ACTION_SERVER_TOKEN": "from-the-secret-store",
    "DB_HOST": "postgres",
    "DB_PORT": "5432",
    "DB_USER": "sewa",
    "DB_PASSWORD": "from-the-secret-store",
    "DB_LOGIN_DB": "postgres",
    "TRACKER_DB": "tracker",
    "EVENTS_DB": "events",
    "REDIS_HOST": "redis",
    "REDIS_PORT": "6379",
    "REDIS_PASSWORD": "from-the-secret-store",
    "REDIS_DB": "1",
}


def test_production_endpoints_come_from_the_environment(monkeypatch):
    for key, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(key, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.prod.yml"))
    assert endpoints.tracker_store.type == "SQL"
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.tracker_store.kwargs["password"] == "from-the-secret-store"
    assert endpoints.lock_store.type == "redis"
    assert endpoints.event_broker.type == "connectors.brokers.SQLEventBroker"
    assert endpoints.event_broker.kwargs["db"] == "events"
    assert endpoints.action.url == "http://actions:5055/webhook"
    assert endpoints.action.headers == {"Authorization": "Bearer from-the-secret-store"}
    text = (ROOT / "endpoints.prod.yml").read_text()
    # the documented lifetimes, longest first: stuck retry > lock > action timeout (300 s)
    assert (
        "WHATSAPP_STUCK_AFTER_SECONDS = 420" in text and "TICKET_LOCK_LIFETIME        = 360" in text
    )


def test_production_endpoints_refuse_to_start_without_their_settings(monkeypatch):
    for key, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DB_PASSWORD")
    with pytest.raises(RasaException, match="DB_PASSWORD"):
        AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.prod.yml"))


def run(script, *args, env):
    return subprocess.run(
        [str(DEPLOY / script), *args], env=env, capture_output=True, text=True, check=False
    )


def test_backup_drop_restore_brings_the_data_back(tmp_path):
    message = {
        "message_id": "wamid.backup-test",
        "wa_id": "919800000777",
        "phone_number_id": "100001",
        "timestamp": 1764800000,
        "body": "{}",
    }
    with private_postgres() as postgres:
        url = postgres.create_database("channel")
        store = ChannelStore(url)
        store.add_inbound([message])
        store.engine.dispose()
        env = {
            **os.environ,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(postgres.port),
            "PGUSER": "postgres",
            "BACKUP_DIR": str(tmp_path / "backups"),
            "DATABASES": "channel",
        }
        backup = run("backup.sh", env=env)
        assert backup.returncode == 0, backup.stderr
        [dump] = (tmp_path / "backups").glob("channel-*.dump")
        assert oct(dump.stat().st_mode & 0o777) == "0o600"

        garbage = tmp_path / "garbage.dump"
        garbage.write_bytes(b"not a dump")
        refused = run("restore.sh", str(garbage), "channel", env=env)
        assert refused.returncode != 0
        assert ChannelStore(url).inbox_state("wamid.backup-test") == "pending"  # untouched

        postgres.execute('DROP DATABASE "channel" WITH (FORCE)')
        with pytest.raises(sa.exc.OperationalError):
            sa.create_engine(url).connect()
        restore = run("restore.sh", str(dump), "channel", env=env)
        assert restore.returncode == 0, restore.stderr
        restored = ChannelStore(url)
        assert restored.inbox_state("wamid.backup-test") == "pending"
        restored.engine.dispose()
