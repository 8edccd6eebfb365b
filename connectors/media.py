"""Checks on files citizens upload over WhatsApp, before anything stores or uses them.

Only what an application needs is accepted: JPEG and PNG photos (≤ 5 MiB, WhatsApp's
image limit) and PDF documents (≤ 20 MiB: what e-District accepts for one document,
``backends.edistrict.MAX_DOCUMENT_BYTES``; WhatsApp itself would carry 100 MiB, but a
file taken here and refused at submission would cost the citizen the whole form).
The declared type is checked against the bytes' signature, so a renamed ``.exe`` or an
HTML page sent as "PDF" is refused, and the sha256 from the (signed) webhook is checked
against the downloaded bytes.

Files are stored under their content hash, never under a name the citizen chose:

    >>> import hashlib
    >>> data = b"%PDF-1.7\\n%%EOF\\n"
    >>> check_upload(data, "application/pdf", hashlib.sha256(data).hexdigest()).ok
    True

One stored file can be referenced by several records (the same photo sent twice, a
chat upload that became an application's document, a CSC upload): each holder is
recorded next to the files as ``.refs/<file name>/<holder>`` (:func:`add_reference`),
and a file is deleted only when its last holder lets go (:func:`drop_reference`).
Holders: ``chat-<HMAC of the number>`` (the channel, for the conversation's uploads),
``document-<application id>-<document id>`` and ``grievance-<grievance id>`` (the
backends, for what their records point at). Every service that shares the media
directory takes the same lock (``.refs/.lock``), so a holder added at the moment another
one is dropped never loses its file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ALLOWED",
    "ERRORS",
    "EXTENSIONS",
    "Checked",
    "add_reference",
    "check_upload",
    "drop_reference",
    "holders",
    "sha256_matches",
    "store",
]

#: Accepted types: (WhatsApp media type, largest size in bytes).
ALLOWED: dict[str, tuple[str, int]] = {
    "image/jpeg": ("image", 5 * 2**20),
    "image/png": ("image", 5 * 2**20),
    "application/pdf": ("document", 20 * 2**20),
}
EXTENSIONS: dict[str, str] = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
_SIGNATURES: dict[str, bytes] = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/pdf": b"%PDF-",
}
ERRORS = frozenset({"mime_not_allowed", "too_large", "empty", "magic_mismatch", "hash_mismatch"})

_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_STORED_NAME = re.compile(r"[0-9a-f]{64}")
#: A storage_ref this module wrote: ``media/<sha256>.<ext>``.
_REF = re.compile(r"media/([0-9a-f]{64}\.(?:jpg|png|pdf))")
_HOLDER = re.compile(r"[A-Za-z0-9_.-]{1,120}")
REFS = ".refs"


@dataclass(frozen=True)
class Checked:
    """Outcome of :func:`check_upload`; ``mime_type`` and ``sha256_hex`` only when ok."""

    ok: bool
    error: str | None
    mime_type: str | None
    sha256_hex: str | None
    size: int


def _mime(declared: object) -> str:
    """``"Image/JPEG; charset=x"`` → ``"image/jpeg"``."""
    if not isinstance(declared, str):
        return ""
    return declared.split(";", 1)[0].strip().lower()


def _declared_digest(declared: str) -> bytes | None:
    """The 32 bytes of a sha256 given in hex or in (standard or URL-safe) base64."""
    text = declared.strip()
    if _HEX_SHA256.fullmatch(text):
        return bytes.fromhex(text)
    text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def sha256_matches(data: bytes, declared: str) -> bool:
    """Whether ``declared`` (hex or base64, as Meta sends it) is the sha256 of ``data``."""
    expected = _declared_digest(declared) if isinstance(declared, str) else None
    return expected is not None and hmac.compare_digest(expected, hashlib.sha256(data).digest())


def check_upload(
    data: bytes, declared_mime: str, declared_sha256: str | None, max_bytes: int | None = None
) -> Checked:
    """Whether ``data`` may be kept as the file a citizen sent; never raises.

    ``declared_mime`` and ``declared_sha256`` come from the webhook (the sha256 in hex or
    base64: Meta has used both). ``declared_sha256=None`` skips the hash check.
    ``max_bytes`` can only lower the per-type limit of :data:`ALLOWED`.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        data = b""
    size = len(data)
    mime = _mime(declared_mime)

    def fail(error: str) -> Checked:
        return Checked(False, error, mime if mime in ALLOWED else None, None, size)

    if mime not in ALLOWED:
        return fail("mime_not_allowed")
    if size == 0:
        return fail("empty")
    limit = ALLOWED[mime][1]
    if isinstance(max_bytes, int) and not isinstance(max_bytes, bool):
        limit = min(limit, max_bytes)
    if size > limit:
        return fail("too_large")
    if not data.startswith(_SIGNATURES[mime]):
        return fail("magic_mismatch")
    if declared_sha256 is not None and not sha256_matches(data, declared_sha256):
        return fail("hash_mismatch")
    return Checked(True, None, mime, hashlib.sha256(data).hexdigest(), size)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def store(data: bytes, directory: Path, sha256_hex: str, mime_type: str) -> str:
    """Writes ``data`` to ``directory/<sha256>.<ext>`` and returns ``"media/<sha256>.<ext>"``.

    For bytes :func:`check_upload` accepted. The directory is created (or tightened) to
    0o700 and the file is 0o600, written to a temporary file, fsynced and renamed, so a
    reader never sees half a file. Storing the same content again is a no-op. Raises
    ``ValueError`` if the hash is not the lowercase hex sha256 of ``data`` or the type is
    not allowed (programming errors: the name is never taken from the citizen).
    """
    if not isinstance(sha256_hex, str) or not _STORED_NAME.fullmatch(sha256_hex):
        raise ValueError("sha256_hex must be 64 lowercase hex digits")
    extension = EXTENSIONS.get(mime_type)
    if extension is None:
        raise ValueError(f"type not allowed: {mime_type!r}")
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), sha256_hex):
        raise ValueError("data does not match sha256_hex")
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        os.chmod(directory, 0o700)
    name = f"{sha256_hex}.{extension}"
    target = directory / name
    if not target.is_symlink() and target.is_file() and target.stat().st_size == len(data):
        return f"media/{name}"  # content-addressed: the same bytes are already there
    fd, temporary = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
    return f"media/{name}"


# --------------------------------------------------------------------------- references


def stored_name(storage_ref: object) -> str | None:
    """``<sha256>.<ext>`` of a ``media/...`` storage_ref; None for anything else."""
    match = _REF.fullmatch(str(storage_ref or ""))
    return match.group(1) if match else None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[Path]:
    refs = Path(directory) / REFS
    refs.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(refs / ".lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield refs
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def prepare(directory: Path) -> None:
    """Creates the media directory and its reference records, or raises ``OSError``: a
    service that records holders refuses to start without a writable shared directory."""
    with _locked(directory):
        pass


def _holder(holder: str) -> str:
    if not _HOLDER.fullmatch(holder) or holder.startswith("."):
        raise ValueError(f"not a holder name: {holder!r}")
    return holder


def add_reference(directory: Path, storage_ref: str, holder: str) -> bool:
    """Records that ``holder`` uses the file; False if ``storage_ref`` is not ours."""
    name = stored_name(storage_ref)
    if name is None:
        return False
    with _locked(directory) as refs:
        (refs / name).mkdir(mode=0o700, exist_ok=True)
        (refs / name / _holder(holder)).touch()
    return True


def holders(directory: Path, storage_ref: str) -> list[str]:
    name = stored_name(storage_ref)
    if name is None:
        return []
    with _locked(directory) as refs:
        folder = refs / name
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def drop_reference(directory: Path, storage_ref: str, holder: str) -> bool:
    """``holder`` no longer uses the file; deletes it if nobody else does. True if deleted.

    A file nobody ever recorded a holder for (stored before references existed) counts
    as held by ``holder`` alone.
    """
    name = stored_name(storage_ref)
    if name is None:
        return False
    with _locked(directory) as refs:
        folder = refs / name
        (folder / _holder(holder)).unlink(missing_ok=True)
        if folder.is_dir() and any(folder.iterdir()):
            return False
        with contextlib.suppress(FileNotFoundError):
            folder.rmdir()
        target = Path(directory) / name
        if target.is_symlink() or not target.is_file():
            return False
        target.unlink()
        _fsync_directory(Path(directory))
        return True
