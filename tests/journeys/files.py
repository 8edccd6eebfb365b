"""Files as a citizen's phone sends them: a camera photo of a few MB, a scanned multi-page
PDF, and one too large to accept. Made once per test session, deterministically (seeded),
so no binary fixture lives in the repository."""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageDraw


def _photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like picture: smooth shading, a document-shaped card and sensor noise
    (noise is what makes a real camera JPEG a few megabytes)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [
            120 + 60 * np.sin(x / 211.0) + 30 * np.cos(y / 157.0),
            110 + 50 * np.cos(x / 173.0 + y / 301.0),
            100 + 40 * np.sin(y / 97.0),
        ],
        axis=-1,
    )
    noisy = base + rng.normal(0, 22, size=base.shape)
    image = Image.fromarray(np.clip(noisy, 0, 255).astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    left, top = width // 6, height // 5
    draw.rectangle([left, top, width - left, height - top], fill=(236, 232, 220))
    for row in range(8):
        y0 = top + 60 + row * (height - 2 * top - 120) // 8
        draw.rectangle(
            [left + 60, y0, width - left - 60 - (row % 3) * 90, y0 + 18], fill=(40, 40, 60)
        )
    return image


@functools.cache
def camera_jpeg(width: int = 2000, height: int = 1500, seed: int = 7) -> bytes:
    """A 2000×1500 camera photo, about 2–3 MB, as WhatsApp sends an image ("HD" off)."""
    out = io.BytesIO()
    _photo(width, height, seed).save(out, "JPEG", quality=95, subsampling=0)
    data = out.getvalue()
    assert 1_500_000 <= len(data) <= 5 * 2**20, len(data)
    return data


@functools.cache
def multipage_pdf(pages: int = 4, seed: int = 11) -> bytes:
    """A scanned document: ``pages`` pages, each a scanned-looking image; 1–3 MB."""
    scans = []
    for page in range(pages):
        scan = io.BytesIO()
        _photo(1240, 1754, seed + page).convert("L").save(scan, "JPEG", quality=85)
        scans.append(scan.getvalue())
    first, *rest = [Image.open(io.BytesIO(s)) for s in scans]
    out = io.BytesIO()
    first.save(out, "PDF", save_all=True, append_images=rest, resolution=150.0)
    data = out.getvalue()
    assert 400_000 <= len(data) <= 5 * 2**20, len(data)
    return data


@functools.cache
def oversize_pdf(megabytes: int = 30) -> bytes:
    """A valid-looking PDF larger than an application document may be."""
    rng = np.random.default_rng(3)
    filler = rng.integers(0, 256, size=megabytes * 2**20, dtype=np.uint8).tobytes()
    return (
        b"%PDF-1.4\n1 0 obj << /Length "
        + str(len(filler)).encode()
        + b" >>\nstream\n"
        + filler
        + b"\nendstream\nendobj\ntrailer << >>\n%%EOF\n"
    )
