"""Latency and load figures for ``POST /api/explain`` on a warm server over loopback.

Starts ``migfix serve`` on a free port (or uses ``--url``), waits for /healthz, then:
1. latency: one client, ``--requests`` sequential requests cycling through the pastes in
   examples/ plus a plain question that no signature decides (the retrieval path);
2. load: ``--clients`` concurrent clients for ``--duration`` seconds.
Prints p50/p99 and throughput as a Markdown table for the README.

    .venv/bin/python bench/load.py --clients 8 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTION = (
    "after I renamed a model field, migrate fails on staging but not locally; what should I check?"
)


@dataclass
class Run:
    """Latencies (ms) and status codes of one phase."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def row(self, name: str) -> str:
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        errors = sum(n for status, n in self.statuses.items() if status != 200)
        cells = [name, str(len(self.latencies)), f"{self.percentile(50):.1f}"]
        cells += [f"{self.percentile(99):.1f}", f"{statistics.fmean(self.latencies):.1f}"]
        return "| " + " | ".join([*cells, f"{rate:.1f}", str(errors)]) + " |"


def pastes() -> list[str]:
    return [p.read_text() for p in sorted((ROOT / "examples").glob("*.txt"))] + [QUESTION]


async def one(client: httpx.AsyncClient, text: str, run: Run) -> None:
    started = time.perf_counter()
    response = await client.post("/api/explain", json={"text": text})
    run.latencies.append((time.perf_counter() - started) * 1000)
    run.statuses[response.status_code] += 1


async def sequential(url: str, texts: list[str], requests: int) -> Run:
    run = Run()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        for n in range(requests):
            await one(client, texts[n % len(texts)], run)
        run.seconds = time.perf_counter() - started
    return run


async def concurrent(url: str, texts: list[str], clients: int, duration: float) -> Run:
    run = Run()
    deadline = time.perf_counter() + duration

    async def worker(offset: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            n = offset
            while time.perf_counter() < deadline:
                await one(client, texts[n % len(texts)], run)
                n += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    run.seconds = time.perf_counter() - started
    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "HF_HUB_OFFLINE": "1",
        "MIGFIX_DATABASE_URL": f"sqlite:///{workdir / 'feedback.sqlite3'}",
        "MIGFIX_INDEX_DIR": str(workdir / "index"),
    }
    migfix = Path(sys.executable).with_name("migfix")
    server = subprocess.Popen(
        [str(migfix), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"bench: migfix serve exited with status {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("bench: the server did not become healthy within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="Benchmark a running server instead of starting one.")
    parser.add_argument("--requests", type=int, default=300, help="Sequential requests (latency).")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (load).")
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds of load.")
    args = parser.parse_args()
    texts = pastes()
    with tempfile.TemporaryDirectory(prefix="migfix-bench-") as tmp:
        server, url = (None, args.url) if args.url else start_server(Path(tmp))
        try:
            asyncio.run(sequential(url, texts, 20))  # warm-up: caches, first-touch code paths
            latency = asyncio.run(sequential(url, texts, args.requests))
            load = asyncio.run(concurrent(url, texts, args.clients, args.duration))
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
    print(f"POST /api/explain, {len(texts)} pastes in rotation, loopback, {os.cpu_count()} CPUs")
    print("| phase | requests | p50 ms | p99 ms | mean ms | req/s | non-200 |")
    print("|---|---|---|---|---|---|---|")
    print(latency.row("warm, 1 client"))
    print(load.row(f"{args.clients} clients, {args.duration:g} s"))


if __name__ == "__main__":
    main()
