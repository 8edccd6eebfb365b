"""Files citizens upload (connectors.media): allow-list, signatures, sizes, hashes, storage."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.media import ALLOWED, ERRORS, Checked, check_upload, store

JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xdb\x00C\x00"
    + bytes(range(64))
    + b"\xff\xd9"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    + b"\x1f\x15\xc4\x89\x00\x00\x00\x0bIDATx\x9cc\xf8\x0f\x00\x01\x01\x01\x00\x18\xdd\x8d\xb4"
    + b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"This program cannot be run in DOS mode."
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script>%PDF-1.7</body></html>"


def hex_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64_of(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize(
    ("data", "mime"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (PDF, "application/pdf")],
)
def test_jpeg_png_pdf_are_accepted(data: bytes, mime: str) -> None:
    assert check_upload(data, mime, hex_of(data)) == Checked(
        ok=True, error=None, mime_type=mime, sha256_hex=hex_of(data), size=len(data)
    )


def test_declared_type_is_read_leniently() -> None:
    got = check_upload(JPEG, "Image/JPEG; name=photo.jpg", None)
    assert got.ok and got.mime_type == "image/jpeg"


@pytest.mark.parametrize(
    "mime",
    [
        "application/x-msdownload",
        "application/octet-stream",
        "text/html",
        "image/gif",
        "image/webp",
        "image/jpg",
        "audio/ogg",
        "",
    ],
)
def test_types_outside_the_allow_list_are_refused(mime: str) -> None:
    got = check_upload(JPEG, mime, hex_of(JPEG))
    assert (got.ok, got.error, got.mime_type, got.sha256_hex) == (
        False,
        "mime_not_allowed",
        None,
        None,
    )


def test_exe_renamed_to_jpg_is_refused() -> None:
    got = check_upload(EXE, "image/jpeg", hex_of(EXE))
    assert (got.ok, got.error, got.sha256_hex) == (False, "magic_mismatch", None)


def test_html_sent_as_pdf_is_refused() -> None:
    assert check_upload(HTML, "application/pdf", hex_of(HTML)).error == "magic_mismatch"
    padded = b"\n\n" + PDF  # the signature must open the file
    assert check_upload(padded, "application/pdf", hex_of(padded)).error == "magic_mismatch"


def test_png_declared_as_jpeg_is_refused() -> None:
    assert check_upload(PNG, "image/jpeg", None).error == "magic_mismatch"
    assert check_upload(PDF, "image/png", None).error == "magic_mismatch"
    assert check_upload(JPEG[:2], "image/jpeg", None).error == "magic_mismatch"


def test_empty_file_is_refused() -> None:
    assert check_upload(b"", "image/png", hex_of(b"")).error == "empty"


def test_oversize_is_refused() -> None:
    limit = ALLOWED["image/jpeg"][1]
    assert limit == 5 * 2**20
    at_limit = JPEG + b"\x00" * (limit - len(JPEG))
    assert check_upload(at_limit, "image/jpeg", None).ok
    over = at_limit + b"\x00"
    got = check_upload(over, "image/jpeg", hex_of(over))
    assert (got.ok, got.error, got.size) == (False, "too_large", limit + 1)


def test_max_bytes_can_only_tighten_the_limit() -> None:
    assert check_upload(PDF, "application/pdf", None, max_bytes=len(PDF) - 1).error == "too_large"
    assert check_upload(PDF, "application/pdf", None, max_bytes=len(PDF)).ok
    big = JPEG + b"\x00" * (ALLOWED["image/jpeg"][1])
    assert check_upload(big, "image/jpeg", None, max_bytes=100 * 2**20).error == "too_large"


def test_wrong_hash_is_refused() -> None:
    assert check_upload(PDF, "application/pdf", hex_of(PDF + b" ")).error == "hash_mismatch"
    assert check_upload(PDF, "application/pdf", b64_of(JPEG)).error == "hash_mismatch"
    for garbage in ("", "not a hash", "zz" * 32, hex_of(PDF)[:-2], "४" * 64):
        assert check_upload(PDF, "application/pdf", garbage).error == "hash_mismatch", garbage


def test_base64_and_hex_hashes_are_accepted() -> None:
    assert check_upload(PNG, "image/png", b64_of(PNG)).ok  # as in Meta's webhooks
    assert check_upload(PNG, "image/png", b64_of(PNG).rstrip("=")).ok
    urlsafe = base64.urlsafe_b64encode(hashlib.sha256(PNG).digest()).decode()
    assert check_upload(PNG, "image/png", urlsafe).ok
    assert check_upload(PNG, "image/png", hex_of(PNG).upper()).ok  # as from GET /{media-id}
    assert check_upload(PNG, "image/png", f"  {hex_of(PNG)}\n").ok


def test_no_declared_hash_skips_the_hash_check() -> None:
    assert check_upload(PDF, "application/pdf", None).ok


def test_bytearray_and_memoryview_are_read() -> None:
    assert check_upload(bytearray(PDF), "application/pdf", hex_of(PDF)).ok  # type: ignore[arg-type]
    assert check_upload(memoryview(PDF), "application/pdf", hex_of(PDF)).ok  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=64) | st.sampled_from([JPEG, PNG, PDF, EXE, HTML]),
    st.sampled_from([*ALLOWED, "text/html", "IMAGE/PNG", ""]) | st.text(max_size=20),
    st.none() | st.text(max_size=70) | st.sampled_from([hex_of(PDF), b64_of(JPEG)]),
)
def test_check_upload_never_raises_and_ok_means_safe(
    data: bytes, mime: str, sha: str | None
) -> None:
    got = check_upload(data, mime, sha)
    assert got.error is None if got.ok else got.error in ERRORS
    assert got.size == len(data)
    if got.ok:
        assert got.mime_type in ALLOWED and got.sha256_hex == hex_of(data)
        signature = {
            "image/jpeg": b"\xff\xd8\xff",
            "image/png": b"\x89PNG",
            "application/pdf": b"%PDF-",
        }
        assert data.startswith(signature[got.mime_type])
    else:
        assert got.sha256_hex is None


# --------------------------------------------------------------------------- store


def test_store_is_content_addressed_and_private(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "media"
    checked = check_upload(JPEG, "image/jpeg", b64_of(JPEG))
    assert checked.sha256_hex is not None and checked.mime_type is not None
    ref = store(JPEG, directory, checked.sha256_hex, checked.mime_type)
    assert ref == f"media/{hex_of(JPEG)}.jpg"
    path = directory / f"{hex_of(JPEG)}.jpg"
    assert path.read_bytes() == JPEG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert os.listdir(directory) == [path.name]  # no temporary file left behind


def test_store_twice_is_a_no_op_and_types_get_their_extension(tmp_path: Path) -> None:
    first = store(PDF, tmp_path, hex_of(PDF), "application/pdf")
    second = store(PDF, tmp_path, hex_of(PDF), "application/pdf")
    png = store(PNG, tmp_path, hex_of(PNG), "image/png")
    assert first == second == f"media/{hex_of(PDF)}.pdf"
    assert png == f"media/{hex_of(PNG)}.png"
    assert sorted(os.listdir(tmp_path)) == sorted([f"{hex_of(PDF)}.pdf", f"{hex_of(PNG)}.png"])


def test_store_repairs_a_truncated_file_and_tightens_the_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / f"{hex_of(PDF)}.pdf").write_bytes(PDF[:10])
    store(PDF, tmp_path, hex_of(PDF), "application/pdf")
    assert (tmp_path / f"{hex_of(PDF)}.pdf").read_bytes() == PDF
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("sha", "mime"),
    [
        (hex_of(JPEG).upper(), "image/jpeg"),  # names are lowercase hex only
        ("../../etc/passwd", "image/jpeg"),
        (hex_of(PNG), "image/jpeg"),  # not the hash of these bytes
        (hex_of(JPEG), "text/html"),
        (hex_of(JPEG), "image/gif"),
    ],
)
def test_store_refuses_names_and_types_it_did_not_derive(
    tmp_path: Path, sha: str, mime: str
) -> None:
    with pytest.raises(ValueError):
        store(JPEG, tmp_path, sha, mime)
    assert os.listdir(tmp_path) == []


def test_limits_match_what_e_district_accepts_and_what_the_citizen_is_told() -> None:
    """A PDF taken in chat but refused at submission would cost the citizen the whole
    form; the refusal must name the real limits, in both languages."""
    import yaml

    from backends.edistrict import MAX_DOCUMENT_BYTES

    assert max(limit for _, limit in ALLOWED.values()) <= MAX_DOCUMENT_BYTES
    assert ALLOWED["application/pdf"][1] == MAX_DOCUMENT_BYTES == 20 * 2**20
    domain = yaml.safe_load((Path(__file__).parent.parent / "domain.yml").read_text("utf-8"))
    texts = [v["text"] for v in domain["responses"]["utter_upload_rejected_too_large"]]
    assert len(texts) == 2
    for text in texts:
        assert f"{ALLOWED['image/jpeg'][1] // 2**20} MB" in text
        assert f"{ALLOWED['application/pdf'][1] // 2**20} MB" in text
