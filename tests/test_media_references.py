"""Stored files are reference-counted (issue 13, item 8): erasure deletes the files of
what it erases wherever they live (CSC uploads included), never a file a kept record
still holds. Real backends over HTTP, files stored exactly as the channel and the
dashboard's CSC filing store them (connectors/media.py)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backends import erasure
from backends.db import Database
from connectors import media
from tests.support.backends import Backend, running_backend
from tests.test_backends_edistrict import CHARACTER, act, create, submit

CITIZEN = "919812300001"
OTHER = "919812300002"
DOCS = ("identity_proof", "address_proof", "photo")


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Path]]:
    directory = tmp_path_factory.mktemp("media-references")
    with running_backend(directory) as running:
        yield running, directory / "media"


def stored(media_dir: Path, text: str) -> str:
    """A PDF stored in the media directory, as the channel and the CSC form store them."""
    data = b"%PDF-1.7\n" + text.encode() + b"\n%%EOF\n"
    return media.store(data, media_dir, hashlib.sha256(data).hexdigest(), "application/pdf")


def attach(backend: Backend, citizen: str, app_id: str, document_id: str, ref: str) -> None:
    name = Path(ref).name
    answer = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/documents",
        json={
            "document_id": document_id,
            "filename": f"{document_id}.pdf",
            "mime_type": "application/pdf",
            "size": 2048,
            "sha256": name.split(".")[0],
            "storage_ref": ref,
        },
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


def erase(backend: Backend, citizen: str) -> dict[str, object]:
    answer = requests.post(
        f"{backend.url}/citizens/{citizen}/erasure",
        json={},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_erasure_deletes_csc_uploads_and_keeps_a_kept_applications_files(
    backend: tuple[Backend, Path],
) -> None:
    server, media_dir = backend
    # an application a CSC operator filed, with the files uploaded at the counter
    csc = create(
        server, CITIZEN, channel="csc", operator={"id": "op-1", "name": "Anil", "centre": "CSC"}
    ).json()["application_id"]
    csc_files = [stored(media_dir, f"csc {doc}") for doc in DOCS]
    for doc, ref in zip(DOCS, csc_files):
        attach(server, CITIZEN, csc, doc, ref)
    # an application with a certificate: kept by law, its documents with it
    kept = create(server, CITIZEN, fields=CHARACTER).json()["application_id"]
    kept_files = [stored(media_dir, f"kept {doc}") for doc in DOCS]
    for doc, ref in zip(DOCS, kept_files):
        attach(server, CITIZEN, kept, doc, ref)
    assert submit(server, CITIZEN, kept).json()["status"] == "submitted"
    act(server, kept, "verify")
    assert act(server, kept, "approve").json()["certificate_number"]
    # another citizen sent the very same file (the store is content-addressed)
    theirs = create(server, OTHER, fields=CHARACTER).json()["application_id"]
    attach(server, OTHER, theirs, "photo", csc_files[2])

    answer = erase(server, CITIZEN)
    assert answer["kept"] == {"certificates": 1, "payments": 0}

    gone = [ref for ref in csc_files[:2] if (media_dir / Path(ref).name).exists()]
    assert gone == [], "CSC uploads survived the erasure"
    assert (media_dir / Path(csc_files[2]).name).exists()  # still the other's
    for ref in kept_files:
        assert (media_dir / Path(ref).name).exists(), "a kept document was deleted"

    erase(server, OTHER)
    assert not (media_dir / Path(csc_files[2]).name).exists()


def test_a_document_attached_again_lets_the_earlier_file_go(
    backend: tuple[Backend, Path],
) -> None:
    server, media_dir = backend
    citizen = "919812300003"
    app_id = create(server, citizen, fields=CHARACTER).json()["application_id"]
    first, second = stored(media_dir, "blurred photo"), stored(media_dir, "sharp photo")
    attach(server, citizen, app_id, "photo", first)
    attach(server, citizen, app_id, "photo", second)
    assert not (media_dir / Path(first).name).exists()
    assert (media_dir / Path(second).name).exists()


def test_backfill_records_the_holders_of_files_attached_before_references(
    backend: tuple[Backend, Path],
) -> None:
    """After the upgrade, files attached earlier have no recorded holder; the backfill
    gives them theirs, so the chat's erasure cannot delete them."""
    server, media_dir = backend
    citizen = "919812300004"
    app_id = create(server, citizen, fields=CHARACTER).json()["application_id"]
    ref = stored(media_dir, "attached before the upgrade")
    attach(server, citizen, app_id, "photo", ref)
    holder = f"document-{app_id}-photo"
    media.drop_reference(media_dir, ref, "nobody")  # (no-op: still held by the document)
    assert media.holders(media_dir, ref) == [holder]
    shutil.rmtree(media_dir / media.REFS / Path(ref).name)  # as before the upgrade

    db = Database(server.db_url)
    try:
        assert erasure.backfill_references(db, media_dir) >= 1
    finally:
        db.dispose()
    assert media.holders(media_dir, ref) == [holder]
    assert not media.drop_reference(media_dir, ref, "chat-0123")  # the chat lets go: kept
    assert (media_dir / Path(ref).name).exists()
