"""GraphClient's downloads over real HTTP from a server that streams slowly, in small
chunks, as a phone network does: the whole body is read with a running size cap, its
length is checked against the metadata's ``file_size`` and its sha256 against ``sha256``.

Each case is one thing a citizen would notice: a photo of a few MB arrives whole; a file
cut on the way or altered is refused as damaged (not accepted, not "send a file"); one over
the limit is refused as too large without being read to the end.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from connectors.graph import DownloadError, GraphClient

TOKEN = "test-token"  # noqa: S105 - the throw-away test server's only credential
CHUNK = 7 * 1024


def photo_bytes(size: int, seed: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    return b"\xff\xd8\xff\xe0" + rng.integers(0, 256, size - 4, dtype=np.uint8).tobytes()


@dataclass
class Served:
    data: bytes
    file_size: int | None = None  # what the metadata announces (None: left out)
    sha256: str | None = None  # base64, as Meta sends it (None: left out)
    send: int | None = None  # how many bytes the url really sends (None: all)
    content_length: bool = False  # announce Content-Length (else chunked encoding)
    public: bool = False  # served without the bearer token (a signed link)


@dataclass
class SlowGraph:
    url: str
    files: dict[str, Served] = field(default_factory=dict)
    bytes_sent: dict[str, int] = field(default_factory=dict)

    def add(self, media_id: str, data: bytes, **options: Any) -> None:
        served = Served(data, **options)
        if "file_size" not in options:
            served.file_size = len(data)
        if "sha256" not in options:
            served.sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self.files[media_id] = served


@pytest.fixture
async def slow_graph() -> AsyncIterator[SlowGraph]:
    app = web.Application()
    graph = SlowGraph("")

    def authorised(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def metadata(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": {"code": 190}}, status=401)
        media_id = request.match_info["media_id"]
        served = graph.files.get(media_id)
        if served is None:
            return web.json_response({"error": {"code": 100}}, status=400)
        info: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "id": media_id,
            "mime_type": "image/jpeg",
            "url": f"{graph.url}/files/{media_id}",
        }
        if served.file_size is not None:
            info["file_size"] = served.file_size
        if served.sha256 is not None:
            info["sha256"] = served.sha256
        return web.json_response(info)

    async def body(request: web.Request) -> web.StreamResponse:
        media_id = request.match_info["media_id"]
        served = graph.files[media_id]
        if not (served.public or authorised(request)):
            return web.json_response({"error": {"code": 190}}, status=401)
        data = served.data if served.send is None else served.data[: served.send]
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        if served.content_length:
            response.content_length = len(served.data)
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        try:
            for start in range(0, len(data), CHUNK):
                await response.write(data[start : start + CHUNK])
                sent += len(data[start : start + CHUNK])
                graph.bytes_sent[media_id] = sent
                if start // CHUNK % 16 == 0:
                    await asyncio.sleep(0.002)  # the network is slower than the reader
        except (ConnectionResetError, asyncio.CancelledError):
            return response  # the reader hung up (e.g. it stopped at its size cap)
        if served.send is not None and served.content_length:
            request.transport.close()  # cut mid-body, as a dropped connection would
            return response
        await response.write_eof()
        return response

    app.router.add_get("/v21.0/{media_id}", metadata)
    app.router.add_get("/files/{media_id}", body)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    graph.url = f"http://127.0.0.1:{port}"
    yield graph
    await runner.cleanup()


@pytest.fixture
async def client(slow_graph: SlowGraph) -> AsyncIterator[GraphClient]:
    graph = GraphClient(f"{slow_graph.url}/v21.0", TOKEN)
    yield graph
    await graph.close()


@pytest.mark.parametrize("size", [17_000, 95_000, 419_428, 1_500_000, 3_000_000, 5 * 2**20])
async def test_a_slowly_streamed_file_arrives_whole(slow_graph, client, size):
    data = photo_bytes(size)
    slow_graph.add("m1", data)
    info, got = await client.download_media("m1", 5 * 2**20)
    assert len(got) == size and got == data
    assert info["file_size"] == size


async def test_a_file_with_content_length_arrives_whole(slow_graph, client):
    data = photo_bytes(2_500_000)
    slow_graph.add("m1", data, content_length=True)
    _, got = await client.download_media("m1", 5 * 2**20)
    assert got == data


async def test_metadata_without_size_or_hash_still_reads_the_whole_body(slow_graph, client):
    data = photo_bytes(1_200_000)
    slow_graph.add("m1", data, file_size=None, sha256=None)
    _, got = await client.download_media("m1", 5 * 2**20)
    assert got == data


async def test_a_body_cut_short_is_refused_as_damaged(slow_graph, client):
    data = photo_bytes(1_500_000)
    slow_graph.add("m1", data, send=900_000)  # chunked: ends cleanly, but short
    with pytest.raises(DownloadError) as refused:
        await client.download_media("m1", 5 * 2**20)
    assert refused.value.code == "truncated"


async def test_a_connection_dropped_mid_body_is_refused_as_damaged(slow_graph, client):
    data = photo_bytes(1_500_000)
    slow_graph.add("m1", data, send=700_000, content_length=True)
    with pytest.raises(DownloadError) as refused:
        await client.download_media("m1", 5 * 2**20)
    assert refused.value.code in ("truncated", "download_failed")


async def test_bytes_that_do_not_match_the_sha256_are_refused(slow_graph, client):
    data = photo_bytes(1_000_000)
    other = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    slow_graph.add("m1", data, sha256=other)
    with pytest.raises(DownloadError) as refused:
        await client.download_media("m1", 5 * 2**20)
    assert refused.value.code == "hash_mismatch"


async def test_an_announced_oversize_file_is_refused_before_downloading(slow_graph, client):
    slow_graph.add("m1", photo_bytes(3_000_000))
    with pytest.raises(DownloadError) as refused:
        await client.download_media("m1", 2_000_000)
    assert refused.value.code == "too_large"
    assert "m1" not in slow_graph.bytes_sent  # the body was never asked for


async def test_an_unannounced_oversize_body_is_cut_off_at_the_cap(slow_graph, client):
    slow_graph.add("m1", photo_bytes(4_000_000), file_size=None, sha256=None)
    with pytest.raises(DownloadError) as refused:
        await client.download_media("m1", 1_000_000)
    assert refused.value.code == "too_large"
    # the reader stopped soon after the cap, it did not take the whole 4 MB first
    await asyncio.sleep(0.2)
    assert slow_graph.bytes_sent["m1"] < 4_000_000


async def test_a_body_longer_than_announced_is_refused(slow_graph, client):
    data = photo_bytes(600_000)
    slow_graph.add("m1", data, file_size=500_000)
    with pytest.raises(DownloadError) as refused:
        await client.download_media("m1", 5 * 2**20)
    assert refused.value.code == "truncated"


async def test_unknown_media_is_a_download_failure(client):
    with pytest.raises(DownloadError) as refused:
        await client.download_media("nope", 5 * 2**20)
    assert refused.value.code == "download_failed"


async def test_fetch_url_reads_a_slow_certificate_whole_and_caps_it(slow_graph, client):
    data = b"%PDF-1.4\n" + photo_bytes(2_000_000)[9:]
    slow_graph.add("cert", data, public=True)
    url = f"{slow_graph.url}/files"
    assert await client.fetch_url(f"{url}/cert", 5 * 2**20) == data
    with pytest.raises(DownloadError) as refused:
        await client.fetch_url(f"{url}/cert", 1_000_000)
    assert refused.value.code == "too_large"
    slow_graph.add("secret", data)  # needs a token fetch_url does not send
    with pytest.raises(DownloadError) as refused:
        await client.fetch_url(f"{url}/secret", 5 * 2**20)
    assert refused.value.code == "download_failed"
