"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, one request in flight per connection),
cheap enough in CPU to share a 2-core machine with the server it measures."""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else float("nan")


async def _client(
    host: str, port: int, make: Callable[[int], bytes], stop_at: float, out: Result, expect: int, record_from: float
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                return
            writer.write(make(n))
            n += 1
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            end = time.perf_counter()
            if start >= record_from:
                out.requests += 1
                out.latencies.append(end - start)
                if int(status_line.split()[1]) != expect:
                    out.errors += 1
    finally:
        writer.close()


def request(path: str, body: dict, headers: dict[str, str]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n{head}"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def run(
    host: str,
    port: int,
    make: Callable[[int], bytes],
    *,
    clients: int,
    seconds: float,
    warmup: float = 1.0,
    expect: int = 201,
) -> Result:
    """`clients` connections for warmup + seconds; only requests started after the warm-up count."""
    now = time.perf_counter()
    out = Result(requests=0, errors=0, seconds=seconds, latencies=[])
    await asyncio.gather(
        *(_client(host, port, make, now + warmup + seconds, out, expect, now + warmup) for _ in range(clients))
    )
    return out
