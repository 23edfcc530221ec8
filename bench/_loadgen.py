"""A bounded HTTP/1.1 load generator on raw asyncio streams, cheap enough not to be what it measures.

Each of ``concurrency`` workers keeps one keep-alive connection and sends the next request as soon as its answer
has been read, so exactly ``concurrency`` requests are in flight. A general HTTP client (httpx) spends more CPU per
request than a small ASGI endpoint does, so on a two-core machine it would measure itself; this one only writes the
request bytes and reads the status line, the headers and a ``Content-Length`` body.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

Request = tuple[bytes, dict[str, str]]
"""A body and its headers (``Host`` and ``Content-Length`` are added)."""


@dataclass
class LoadResult:
    seconds: float
    latencies_ms: list[float]
    """Ascending."""
    statuses: Counter[int]


def encode(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length: int | None = None
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise ConnectionError("response without Content-Length")
    await reader.readexactly(length)
    return status


async def post_all(host: str, port: int, path: str, requests: Sequence[Request], *, concurrency: int) -> LoadResult:
    """POST every request to ``path`` with ``concurrency`` in flight; latency is from write to full answer."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    payloads = iter([encode(host, port, path, body, headers) for body, headers in requests])

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for payload in payloads:
                sent = time.perf_counter()
                writer.write(payload)
                statuses[await _read_response(reader)] += 1
                latencies.append((time.perf_counter() - sent) * 1000)
        finally:
            writer.close()
            await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return LoadResult(seconds, sorted(latencies), statuses)
