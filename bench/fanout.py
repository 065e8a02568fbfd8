"""Fan-out: CPU and wall time to deliver one note to 1,000 distinct inboxes served by a local receiver.

Ours: a real instance (in this process, its own SQLite file) publishes one note with `publish_note` to 1,000
remote followers, then `DeliveryWorker.step()` runs until idle, through the real `HttpClient`. Floor: sign
the same 1,000 requests with `sign_request` (key loaded once) and POST them with a bare aiohttp session at
the same concurrency. CPU is this process's `time.process_time()` (the SQLite threads included); the
receiver is a raw-asyncio HTTP/1.1 server in a separate process, so its CPU is not counted.

Two layouts of the 1,000 inboxes:
  one-host    http://127.0.0.1:PORT/inbox/{i}: one host, so `delivery_concurrency_per_host` is raised to 64
              for the run (at its default of 4 the worker would send to a single host 4 at a time);
              connections are reused (keep-alive), as for a big shared instance.
  many-hosts  http://h{i}.fanout.test:PORT/inbox/{i}: 1,000 host names resolved to 127.0.0.1 by an injected
              resolver (still checked by the SSRF guard); default config; one new connection per inbox, as
              for followers spread over many small instances.
Ours is run with each HTTP transport: `httpx` (httpcore), `httpx-aiohttp` (the PyPI
package, with a guarded resolver) and `aiohttp` (fediverse_learn.http_aiohttp, the app's default). Usage:
    python -m bench.fanout [--runs 5] [--layout one-host|many-hosts|both] [--transports httpx,aiohttp,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import aiohttp
import httpx
import orjson
from aiohttp.abc import AbstractResolver, ResolveResult

from fediverse_learn.app import build_services, initialize
from fediverse_learn.clock import SystemClock
from fediverse_learn.config import Config
from fediverse_learn.converters import actor_from_ap
from fediverse_learn.http import build_guarded_transport
from fediverse_learn.keys import KeyPair, generate_key_pair_sync
from fediverse_learn.netpolicy import AddressPolicy
from fediverse_learn.services import Services
from fediverse_learn.signatures import sign_request
from fediverse_learn.store.actors import LocalActor, create_actor
from fediverse_learn.store.remote import _encode
from outbox.compose import publish_note
from outbox.delivery import DeliveryWorker
from tests.support.instances import make_config

N_INBOXES = 1000
CONCURRENCY = 64        # FederationConfig.delivery_concurrency
BENCH_DOMAIN = "fanout.test"
AP = "application/activity+json"
TRANSPORTS = ("httpx", "httpx-aiohttp", "aiohttp")
LAYOUTS = ("one-host", "many-hosts")

# --- the receiver (a separate process) ---------------------------------------------------------------------

_RESPONSE = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_HOST = re.compile(rb"\r\nhost:[ \t]*([^\r]*)", re.IGNORECASE)
_SIGNATURE = re.compile(rb"\r\nsignature:", re.IGNORECASE)


class _Stats:
    def __init__(self) -> None:
        self.posts = 0
        self.signed = 0
        self.inboxes: set[bytes] = set()   # host + path

    def reset(self) -> None:
        self.posts = self.signed = 0
        self.inboxes = set()


class _ReceiverConnection(asyncio.Protocol):
    """HTTP/1.1 keep-alive: POST /inbox/N answers 202 (counted), GET /stats answers and resets the counts."""

    def __init__(self, stats: _Stats) -> None:
        self._stats = stats
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end]
            match = _CONTENT_LENGTH.search(head)
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(self._buffer) < total:
                return
            self._buffer = self._buffer[total:]
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        assert self._transport is not None
        request_line = head.split(b"\r\n", 1)[0].split(b" ")
        if request_line[:2] == [b"GET", b"/stats"]:
            stats = self._stats
            body = orjson.dumps({"posts": stats.posts, "signed": stats.signed, "distinct": len(stats.inboxes)})
            stats.reset()
            self._transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                  + str(len(body)).encode() + b"\r\n\r\n" + body)
            return
        host = _HOST.search(head)
        self._stats.posts += 1
        self._stats.inboxes.add((host.group(1) if host else b"") + request_line[1])
        if _SIGNATURE.search(head):
            self._stats.signed += 1
        self._transport.write(_RESPONSE)


async def _receiver(port: int) -> None:
    stats = _Stats()
    server = await asyncio.get_running_loop().create_server(
        lambda: _ReceiverConnection(stats), "127.0.0.1", port, backlog=4096, reuse_address=True)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


class Receiver:
    """Starts the receiver process; `stats()` returns and resets what it received."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.fanout", "--receiver"],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def stats(self) -> dict[str, int]:
        response = httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=10)
        return dict(response.json())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --- the two layouts -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    name: str
    port: int

    def inbox(self, i: int) -> str:
        host = "127.0.0.1" if self.name == "one-host" else f"h{i}.{BENCH_DOMAIN}"
        return f"http://{host}:{self.port}/inbox/{i}"

    @property
    def per_host(self) -> int:
        return CONCURRENCY if self.name == "one-host" else 4


async def bench_resolve(host: str, port: int) -> list[IPv4Address | IPv6Address]:
    """*.fanout.test is 127.0.0.1; anything else through the system resolver."""
    if host.endswith("." + BENCH_DOMAIN):
        return [IPv4Address("127.0.0.1")]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ip_address(info[4][0]) for info in infos]


class _FloorResolver(AbstractResolver):
    """The floor's resolver: the same answers, no policy."""

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=str(a), port=port, family=socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST) for a in await bench_resolve(host, port)]

    async def close(self) -> None:
        return None


# --- transports for ours ---------------------------------------------------------------------------------------

def have_sniffio() -> bool:
    return importlib.util.find_spec("sniffio") is not None


def available(transport: str) -> bool:
    """httpx-aiohttp is only a comparison here (not a dependency): skipped when not installed."""
    return transport != "httpx-aiohttp" or importlib.util.find_spec("httpx_aiohttp") is not None


def make_transport(name: str, policy: AddressPolicy) -> httpx.AsyncBaseTransport:
    if name == "httpx":
        return build_guarded_transport(policy, bench_resolve)
    if name == "aiohttp":
        from fediverse_learn.http_aiohttp import build_aiohttp_transport
        return build_aiohttp_transport(policy, bench_resolve)
    if name == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport as PackageTransport

        from fediverse_learn.http_aiohttp import GuardedResolver

        def session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                resolver=GuardedResolver(policy, bench_resolve), keepalive_timeout=5.0, limit=100))
        transport: httpx.AsyncBaseTransport = PackageTransport(client=session)
        return transport
    raise ValueError(f"unknown transport {name!r}")


# --- one run ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    cpu: float
    wall: float
    detail: dict[str, float]


def _cpu_wall() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def _loop_cpu() -> float:
    """CPU of this thread (the event loop's); process CPU minus it is the SQLite threads' (and others')."""
    return time.thread_time()


async def _follower_rows(services: Services, ada: LocalActor, layout: Layout, now: float) -> None:
    """1,000 accepted remote followers, each with its own inbox (no shared inbox), in one transaction."""
    followee = services.uris.actor(ada.name)
    async with services.db.transaction() as tx:
        for i in range(N_INBOXES):
            inbox = layout.inbox(i)
            host = httpx.URL(inbox).netloc.decode()
            uri = f"http://{host}/users/f{i}"
            actor = actor_from_ap({"id": uri, "type": "Person", "preferredUsername": f"f{i}", "inbox": inbox}, uri)
            await tx.execute(
                "INSERT INTO remote_actors (uri, domain, username, type, inbox, shared_inbox, followers, data,"
                " fetched_at) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
                (uri, host, f"f{i}", "Person", inbox, _encode(actor).decode(), now))
            await tx.execute(
                "INSERT INTO follows (follower_uri, followee_uri, state, activity_uri, created_at)"
                " VALUES (?, ?, 'accepted', NULL, ?)", (uri, followee, now))


async def run_ours(root: Path, layout: Layout, transport: str, keys: KeyPair,
                   profile: Callable[[], Awaitable[None]] | None = None) -> tuple[Figures, bytes]:
    """Publish one note to 1,000 followers and deliver it; the figures and the delivered body."""
    config: Config = make_config(f"ours.{BENCH_DOMAIN}", root, allow_private_addresses=True,
                                 delivery_concurrency_per_host=layout.per_host,
                                 delivery_concurrency=CONCURRENCY)
    clock = SystemClock()
    await initialize(config, clock)
    policy = AddressPolicy(allow_private=True)
    services = await build_services(config, clock=clock, transport=make_transport(transport, policy))
    try:
        ada = await create_actor(services.db, name="ada", kind="person", keys=keys, now=clock.time())
        await _follower_rows(services, ada, layout, clock.time())
        services.keys.load(ada.private_key_pem)   # loaded once per process in real life, not per note
        worker = DeliveryWorker(services)
        gc.collect()
        loop0 = _loop_cpu()
        cpu0, wall0 = _cpu_wall()
        await publish_note(services, ada, source="A note for **everyone** who follows me. #bench")
        cpu1, wall1 = _cpu_wall()
        steps = 0
        while await worker.step():
            steps += 1
        cpu2, wall2 = _cpu_wall()
        loop2 = _loop_cpu()
        done = await services.db.fetchval("SELECT count(*) FROM deliveries WHERE state = 'done'")
        if done != N_INBOXES:
            errors = await services.db.fetchall("SELECT last_error FROM deliveries WHERE state != 'done' LIMIT 3")
            raise RuntimeError(f"{transport}: only {done} of {N_INBOXES} delivered: {[dict(r) for r in errors]}")
        body = bytes(await services.db.fetchval("SELECT body FROM deliveries LIMIT 1"))
    finally:
        await services.aclose()
    return Figures(cpu2 - cpu0, wall2 - wall0, {"publish_cpu": cpu1 - cpu0, "publish_wall": wall1 - wall0,
                                               "loop_cpu": loop2 - loop0, "steps": steps}), body


async def run_floor(layout: Layout, body: bytes, keys: KeyPair) -> Figures:
    """Sign 1,000 POSTs and send them with a bare aiohttp session at the same concurrency."""
    from fediverse_learn.keys import PrivateKeyCache
    key = PrivateKeyCache().load(keys.private_pem)   # loaded once, before timing, like ours
    key_id = f"http://ours.{BENCH_DOMAIN}/users/ada#main-key"
    gc.collect()
    loop0 = _loop_cpu()
    cpu0, wall0 = _cpu_wall()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, resolver=_FloorResolver())
    statuses: list[int] = []
    async with aiohttp.ClientSession(connector=connector) as session:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def send(url: str) -> None:
            async with slots:
                headers = {"Content-Type": AP}
                headers.update(sign_request("POST", url, headers, body, key_id, key, datetime.now(UTC)))
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)

        async with asyncio.TaskGroup() as tasks:
            for i in range(N_INBOXES):
                tasks.create_task(send(layout.inbox(i)))
    cpu1, wall1 = _cpu_wall()
    loop1 = _loop_cpu()
    if statuses.count(202) != N_INBOXES:
        raise RuntimeError(f"floor: {statuses.count(202)} of {N_INBOXES} answered 202")
    return Figures(cpu1 - cpu0, wall1 - wall0, {"loop_cpu": loop1 - loop0})


# --- the whole benchmark ------------------------------------------------------------------------------------

def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} CPUs"


async def run_layout(layout_name: str, transports: Sequence[str], runs: int, receiver: Receiver,
                     keys: KeyPair, tmp: Path) -> dict[str, list[Figures]]:
    layout = Layout(layout_name, receiver.port)
    results: dict[str, list[Figures]] = {name: [] for name in ("floor", *transports)}
    body = b""
    receiver.stats()
    for run in range(runs):
        for name in transports:     # interleaved so that load changes hit every variant alike
            figures, body = await run_ours(tmp / f"{layout_name}-{name}-{run}", layout, name, keys)
            got = receiver.stats()
            if got["posts"] != N_INBOXES or got["distinct"] != N_INBOXES or got["signed"] != N_INBOXES:
                raise RuntimeError(f"{name}: the receiver saw {got}")
            results[name].append(figures)
        results["floor"].append(await run_floor(layout, body, keys))
        got = receiver.stats()
        if got["posts"] != N_INBOXES or got["distinct"] != N_INBOXES:
            raise RuntimeError(f"floor: the receiver saw {got}")
    return results


def report(layout: str, results: dict[str, list[Figures]], runs: int) -> list[str]:
    floor = results["floor"]
    floor_cpu, floor_wall = _median([f.cpu for f in floor]), _median([f.wall for f in floor])
    lines = [f"fan-out, {layout}, {N_INBOXES} inboxes, concurrency {CONCURRENCY}, median of {runs} runs:",
             f"  floor (sign + bare aiohttp)    CPU {floor_cpu * 1000:7.0f} ms   wall {floor_wall * 1000:7.0f} ms"
             f"   ({floor_cpu / N_INBOXES * 1e6:.0f} µs CPU per delivery;"
             f" CPU of each run: {', '.join(f'{f.cpu * 1000:.0f}' for f in floor)} ms)"]
    for name, figures in results.items():
        if name == "floor":
            continue
        cpu, wall = _median([f.cpu for f in figures]), _median([f.wall for f in figures])
        publish = _median([f.detail["publish_cpu"] for f in figures])
        loop = _median([f.detail["loop_cpu"] for f in figures])
        lines.append(
            f"  ours, transport {name:<13}  CPU {cpu * 1000:7.0f} ms   wall {wall * 1000:7.0f} ms"
            f"   CPU ratio {cpu / floor_cpu:4.2f} (target <= 1.5)   wall ratio {wall / floor_wall:4.2f}")
        lines.append(
            f"      {cpu / N_INBOXES * 1e6:.0f} µs CPU per delivery; publish (enqueue) {publish * 1000:.0f} ms;"
            f" event-loop thread {loop * 1000:.0f} ms, SQLite threads {(cpu - loop) * 1000:.0f} ms;"
            f" CPU of each run: {', '.join(f'{f.cpu * 1000:.0f}' for f in figures)} ms")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layout", choices=(*LAYOUTS, "both"), default="both")
    parser.add_argument("--transports", default=",".join(TRANSPORTS),
                        help=f"comma-separated, of {', '.join(TRANSPORTS)}")
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_receiver(0))
        return
    logging.basicConfig(level=logging.WARNING)
    transports = [t for t in args.transports.split(",") if t and available(t)]
    layouts = LAYOUTS if args.layout == "both" else (args.layout,)
    keys = generate_key_pair_sync()
    print(f"fan-out bench: {_load()} at start; sniffio {'installed' if have_sniffio() else 'NOT installed'}",
          flush=True)
    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for layout in layouts:
                results = asyncio.run(run_layout(layout, transports, args.runs, receiver, keys, Path(tmp)))
                print("\n".join(report(layout, results, args.runs)), flush=True)
    finally:
        receiver.close()
    print(f"fan-out bench: {_load()} at end", flush=True)


if __name__ == "__main__":
    main()
