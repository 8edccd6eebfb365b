"""The channel's sends to WhatsApp keep Meta's per-number rate in every second, even
when some requests are held up on their way (a busy machine, a slow connection) and
land among the ones sent after them. The old token bucket spaced only the starts and
let such stragglers pile into one second."""

import asyncio
import bisect
import time

from aiohttp import web

from connectors.graph import GraphClient


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


async def test_no_second_holds_more_than_the_rate_through_the_graph_client(
    unused_tcp_port: int,
) -> None:
    rate, count = 40, 120
    arrivals: list[float] = []
    seen = 0

    async def messages(request: web.Request) -> web.Response:
        nonlocal seen
        n, seen = seen, seen + 1
        # every other second, half the requests are held up 0.3 s before WhatsApp sees them
        if n % rate < rate // 2 and (n // rate) % 2 == 0:
            await asyncio.sleep(0.3)
        arrivals.append(time.monotonic())
        return web.json_response({"messages": [{"id": f"wamid.{n}"}]})

    app = web.Application()
    app.router.add_post("/v21.0/{number}/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    client = GraphClient(f"http://127.0.0.1:{unused_tcp_port}/v21.0", "t", rate_per_number=rate)
    try:
        body = {"messaging_product": "whatsapp", "to": "919800000000", "type": "text"}
        started = time.monotonic()
        results = await asyncio.gather(*(client.send("100001", body) for _ in range(count)))
        elapsed = time.monotonic() - started
    finally:
        await client.close()
        await runner.cleanup()
    assert all(r.ok for r in results)
    assert busiest_second(arrivals) <= rate
    assert elapsed < count / rate + 1.5, elapsed  # and no slower than it must be
