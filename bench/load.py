"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, one request in flight per connection),
cheap enough in CPU to share a 2-core machine with the server it measures."""

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (Linux /proc), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The most resident memory the process has used since it started (VmHWM), in MB; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def process_tree(root: int) -> list[int]:
    """A process and all its descendants (uvicorn --workers N runs a supervisor and N children)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per group of processes during the run

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
    watch: dict[str, Callable[[], list[int]]] | None = None,
) -> Result:
    """`clients` connections for warmup + seconds; only requests started after the warm-up count. `watch`
    names groups of processes whose CPU time over the measured part is reported."""
    now = time.perf_counter()
    out = Result(requests=0, errors=0, seconds=seconds, latencies=[])
    groups = {**(watch or {}), "load generator": lambda: [os.getpid()]}

    async def sample() -> None:
        await asyncio.sleep(warmup)
        pids = {k: find() for k, find in groups.items()}  # after the warm-up: connections are open by now
        before = {k: cpu_seconds(v) for k, v in pids.items()}
        await asyncio.sleep(seconds)
        out.cpu = {k: cpu_seconds(v) - before[k] for k, v in pids.items()}

    clients_done = [
        _client(host, port, make, now + warmup + seconds, out, expect, now + warmup) for _ in range(clients)
    ]
    await asyncio.gather(sample(), *clients_done)
    return out
