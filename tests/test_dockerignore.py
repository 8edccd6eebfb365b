"""The image ships the code and the trained model, never the repository's history, a
local virtualenv, runtime data (``var/``: databases, media, certificates) or secrets:
``.dockerignore`` read the way Docker reads it (patterns against paths relative to the
build context, a matching directory excludes all below it, ``!`` re-includes, the last
matching pattern wins)."""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

import pytest

from backends.config import ROOT


def patterns() -> list[str]:
    path = ROOT / ".dockerignore"
    assert path.exists(), "no .dockerignore: `COPY . .` ships everything"
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _matches(pattern: str, path: str) -> bool:
    """Does ``pattern`` match ``path`` or one of its parent directories?"""
    parts = PurePosixPath(path).parts
    if pattern.startswith("**/"):  # at any depth
        rest = pattern[3:]
        return any(
            fnmatch.fnmatchcase("/".join(parts[i : j + 1]), rest)
            for i in range(len(parts))
            for j in range(i, len(parts))
        )
    pattern = pattern.strip("/")
    depth = pattern.count("/") + 1  # "*" never crosses a "/" in Docker's patterns
    return len(parts) >= depth and fnmatch.fnmatchcase("/".join(parts[:depth]), pattern)


def ignored(path: str) -> bool:
    result = False
    for pattern in patterns():
        if _matches(pattern.lstrip("!"), path):
            result = not pattern.startswith("!")
    return result


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".git/objects/ab/cdef",
        ".venv/bin/python",
        "var/dashboard.db",
        "var/media/0123abcd.jpg",
        "var/storage/certificates/CERT-2026-000001.pdf",
        "results/fault-injection.md",
        "deploy/.env",
        "dashboard/__pycache__/web.cpython-310.pyc",
        "models/delhi-sewa-old.tar.gz",
        "tls/tls.key",
    ],
)
def test_history_environments_data_and_secrets_stay_out(path: str) -> None:
    assert ignored(path), f"{path} would be copied into the image"


@pytest.mark.parametrize(
    "path",
    [
        "models/delhi-sewa.tar.gz",
        "dashboard/web.py",
        "dashboard/templates/base.html",
        "backends/app.py",
        "requirements.txt",
        "constraints.txt",
        "endpoints.prod.yml",
        "credentials.yml",
        "domain.yml",
        "service_catalogue/grievances.yml",
        "bench/heldout/en.yml",
        "deploy/nginx.conf",
    ],
)
def test_what_the_services_run_is_shipped(path: str) -> None:
    assert not ignored(path), f"{path} is needed in the image"
