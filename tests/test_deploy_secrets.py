"""Each service gets only its own secrets (issue 13, item 4): the Compose file and the
Kubernetes manifests, rendered as their tools read them, give every container exactly
the secrets the table "Secrets per service" of docs/operations.md names — no container
reads the whole .env, none holds another service's keys (the action server, reachable by
Rasa, has no database password, no officer key and no WhatsApp token)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# the secret names of the environment (deploy/env.example marks them SECRET), plus the
# database URLs that carry the password
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|_KEY|DB_URL")
ALIASES = {"POSTGRES_PASSWORD": "DB_PASSWORD"}


def documented() -> dict[str, set[str]]:
    """service -> secret names, from the table in docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("**Secrets per service.**", 1)[1]
    table: dict[str, set[str]] = {}
    for line in section.splitlines()[1:]:
        if table and not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("service", "---"):
            continue
        table[cells[0]] = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[1])) - set(ALIASES)
    return table


def optional() -> set[str]:
    """Secrets of optional services (voice notes, the generative layer): marked
    "(optional)" in the table; unset, the feature is simply off."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("**Secrets per service.**", 1)[1]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)` \(optional\)", section))


def secrets_of(names: set[str]) -> set[str]:
    return {ALIASES.get(n, n) for n in names if SECRET_NAME.search(n)}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_table_names_every_secret_of_env_example():
    marked = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
        if "# SECRET" in line
    }
    used = set().union(*documented().values())
    assert marked - used == set(), "a secret of env.example no service is given"
    assert {"ACTION_SERVER_TOKEN"} <= marked


def test_compose_gives_each_service_only_its_own_secrets():
    table = documented()
    services = compose()["services"]
    for name, service in services.items():
        assert "env_file" not in service, f"{name} reads the whole .env"
        assert name in table, f"{name} is missing from the table in docs/operations.md"
        given = secrets_of(set(service.get("environment") or {}))
        assert given == table[name], name
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and key not in optional():
                assert ":?" in str(value), f"{name}.{key} must refuse to start when unset"


def test_kubernetes_gives_each_container_only_its_own_secrets():
    table = documented()
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "CronJob")]
    for workload in workloads:
        spec = workload["spec"]
        pod = spec.get("jobTemplate", {}).get("spec", spec)["template"]["spec"]
        for container in pod["containers"]:
            name = workload["metadata"]["name"]
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, f"{name} takes the whole Secret"
            env = container.get("env", [])
            from_secret = {
                v["valueFrom"]["secretKeyRef"]["key"]
                for v in env
                if "secretKeyRef" in v.get("valueFrom", {})
            }
            assert name in table, f"{name} is missing from the table in docs/operations.md"
            assert secrets_of(from_secret | {v["name"] for v in env}) == table[name], name


def test_the_action_server_holds_no_key_to_the_data():
    for service in (compose()["services"]["actions"],):
        names = set(service["environment"])
        assert not names & {
            "DB_PASSWORD",
            "BACKENDS_OFFICER_TOKEN",
            "WHATSAPP_TOKEN",
            "BACKENDS_DB_URL",
            "DASHBOARD_SECRET_KEY",
        }
        assert "ACTION_SERVER_TOKEN" in names
