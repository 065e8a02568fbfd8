"""Inbox: signed activities accepted per second at POST /inbox, and processed per second by the inbox worker.

Ours: the real app (`create_app`, workers off while accepting) served by uvicorn in ONE separate process,
its SQLite file initialised and the remote actor's key already cached (as after its first request).
Floor: a bare Starlette endpoint served the same way (same uvicorn settings, same HTTP stack) that only
verifies the signature (`read_signature` + `verify_signature`, public key loaded once; `read_signature`
checks the Digest), parses the body with orjson and inserts one row with aiosqlite (WAL, synchronous=FULL,
like fediverse_learn/store/db.py).

The load: N distinct Create(Note) activities from one remote actor, signed before timing (signing is the
sender's cost), POSTed by an aiohttp client in this process at a fixed concurrency; every answer must be 202.
Reported: accepted/s (wall) and the server process's CPU per request (/proc utime+stime), ours vs the floor,
median of the runs, ours and the floor interleaved. Then the worker: `InboxWorker(services).step()` until
idle over the rows each run queued, in this process, rows/s and CPU per row. Usage:
    python -m bench.inbox [--runs 5] [--activities 2000] [--concurrency 32]
With BENCH_PROFILE=DIR set, each server writes its cProfile stats to DIR/inbox-{ours,floor}.prof at exit, and
the worker's drains (this process, event-loop thread only) add theirs up in DIR/inbox-worker.prof.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import httpx
import orjson

from tests.support.processes import free_port

AP = "application/activity+json"
REMOTE_HOST = "remote.bench.test"
FLOOR_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, activity_id TEXT NOT NULL UNIQUE,"
    " actor_uri TEXT NOT NULL, body BLOB NOT NULL, received_at REAL NOT NULL)"
)
UVICORN_SETTINGS: dict[str, Any] = {   # as fediverse_learn/server.py, less the logging
    "lifespan": "on", "log_level": "warning", "proxy_headers": True, "forwarded_allow_ips": "127.0.0.1",
    "server_header": False, "access_log": False,
}

# --- the two servers (each run as `python -m bench.inbox --serve ...` in its own process) -------------------


def _config_text(root: Path, port: int) -> str:
    return (
        f'[instance]\ndomain = "127.0.0.1:{port}"\nbase_url = "http://127.0.0.1:{port}"\nregistrations = "closed"\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n'
        f'[storage]\ndatabase = "{root / "db.sqlite3"}"\nmedia_dir = "{root / "media"}"\n'
        "[federation]\nallow_http = true\n"
    )


async def _serve_ours(config_path: Path) -> None:
    import uvicorn

    from fediverse_learn.app import build_services, create_app
    from fediverse_learn.config import load_config

    config = load_config(config_path)
    services = await build_services(config)
    app = create_app(services, close_services=True, run_workers=False)
    await uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=config.server.port, **UVICORN_SETTINGS)).serve()


async def _serve_floor(db_path: Path, port: int, public_pem: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from fediverse_learn.signatures import load_public_key, read_signature, verify_signature

    key = load_public_key(public_pem)
    target = f"http://127.0.0.1:{port}/inbox"
    conn = await aiosqlite.connect(str(db_path), isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", "busy_timeout = 10000"):
        await conn.execute(f"PRAGMA {pragma}")
    await conn.execute(FLOOR_SCHEMA)

    async def inbox(request: Request) -> Response:
        body = await request.body()
        headers = {name: ", ".join(request.headers.getlist(name)) for name in request.headers}
        sig = read_signature("POST", target, headers, body, time.time(), 3600)   # checks the Digest too
        verify_signature(sig, key)
        doc = orjson.loads(body)
        await conn.execute("INSERT INTO inbox (activity_id, actor_uri, body, received_at) VALUES (?, ?, ?, ?)",
                           (doc["id"], doc["actor"], body, time.time()))
        return Response(status_code=202)

    app = Starlette(routes=[Route("/inbox", inbox, methods=["POST"])])
    try:
        await uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **UVICORN_SETTINGS)).serve()
    finally:
        await conn.close()   # aiosqlite's thread would otherwise keep the process alive


class ServerProcess:
    def __init__(self, args: list[str], port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.inbox", "--serve", *args])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {args[0]} exited with {self.proc.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"server {args[0]} did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --- the load ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    url: str
    headers: dict[str, str]
    body: bytes


def sign_activities(actor: Any, url: str, count: int, tag: str) -> list[Signed]:
    """`count` distinct Create(Note) activities by `actor` (a RemoteActorFixture), signed for `url`."""
    now = datetime.now(UTC)
    signed = []
    for i in range(count):
        note = actor.note(f"<p>Bench note {tag}-{i}: spaced repetition works best with <a href=\"https://"
                          f"example.org/srs\">short daily sessions</a>. #learning #bench</p>")
        body = orjson.dumps(actor.create(note))
        signed.append(Signed(url, actor.sign(url, body, now=now), body))
    return signed


async def post_all(requests: Sequence[Signed], concurrency: int) -> tuple[float, dict[int, int]]:
    """POST every request at `concurrency`; the wall time and the count of each status."""
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        pending = iter(requests)

        async def client() -> None:
            for request in pending:
                async with session.post(request.url, data=request.body, headers=request.headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        async with asyncio.TaskGroup() as tasks:
            for _ in range(concurrency):
                tasks.create_task(client())
        return time.perf_counter() - started, statuses


@dataclass(frozen=True)
class Accepted:
    per_second: float
    cpu_per_request: float


def accept_run(server: ServerProcess, requests: Sequence[Signed], concurrency: int) -> Accepted:
    gc.collect()
    cpu0 = server.cpu_seconds()
    wall, statuses = asyncio.run(post_all(requests, concurrency))
    cpu = server.cpu_seconds() - cpu0
    if statuses != {202: len(requests)}:
        raise RuntimeError(f"server on port {server.port} answered {statuses}")
    return Accepted(len(requests) / wall, cpu / len(requests))


# --- the worker ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Processed:
    rows: int
    per_second: float
    cpu_per_row: float


async def drain_inbox(config_path: Path) -> Processed:
    """Run the inbox worker until idle; rows handled (all must end 'done') per second and CPU per row."""
    from fediverse_learn.app import build_services
    from fediverse_learn.config import load_config
    from inbox.worker import InboxWorker

    services = await build_services(load_config(config_path))
    profile_dir = os.environ.get("BENCH_PROFILE")
    profiler = cProfile.Profile() if profile_dir else None
    try:
        worker = InboxWorker(services)
        gc.collect()
        if profiler is not None:
            profiler.enable()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        rows = 0
        while handled := await worker.step():
            rows += handled
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if profiler is not None and profile_dir:
            profiler.disable()
            path = Path(profile_dir) / "inbox-worker.prof"
            if path.exists():   # the stats of every drain of the run, added up
                profiler.create_stats()
                pstats.Stats(profiler).add(str(path)).dump_stats(path)
            else:
                profiler.dump_stats(path)
        bad = await services.db.fetchall("SELECT state, last_error FROM inbox_queue WHERE state != 'done' LIMIT 3")
        if bad:
            raise RuntimeError(f"inbox rows not done: {[dict(r) for r in bad]}")
    finally:
        await services.aclose()
    return Processed(rows, rows / wall if wall else 0.0, cpu / rows if rows else 0.0)


# --- set-up --------------------------------------------------------------------------------------------------


async def _prepare_ours(config_path: Path, actor_document: dict[str, Any]) -> None:
    """Initialise the instance and cache the remote actor and its key (as its first request would)."""
    from fediverse_learn.app import initialize
    from fediverse_learn.config import load_config
    from fediverse_learn.converters import actor_from_ap
    from fediverse_learn.store.db import Database
    from fediverse_learn.store.remote import save_remote_actor

    config = load_config(config_path)
    await initialize(config)
    db = await Database.open(config.database_path)
    try:
        await save_remote_actor(db, actor_from_ap(actor_document, actor_document["id"]), time.time())
    finally:
        await db.close()


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} CPUs"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        kind, *rest = args.serve
        profile_dir = os.environ.get("BENCH_PROFILE")   # a directory: write the server's cProfile stats there
        profiler = cProfile.Profile() if profile_dir else None
        if profiler is not None:
            # uvicorn re-raises the SIGTERM it caught once it has shut down, which would end the process
            # before the stats are written: ignore that second delivery (uvicorn's own handler comes first).
            signal.signal(signal.SIGTERM, lambda *_: None)
            profiler.enable()
        if kind == "ours":
            asyncio.run(_serve_ours(Path(rest[0])))
        else:
            asyncio.run(_serve_floor(Path(rest[0]), int(rest[1]), Path(rest[2]).read_text()))
        if profiler is not None and profile_dir:
            profiler.disable()
            profiler.dump_stats(Path(profile_dir) / f"inbox-{kind}.prof")
        return
    logging.basicConfig(level=logging.WARNING)
    from tests.support.remote import RemoteActorFixture

    actor = RemoteActorFixture(REMOTE_HOST, "ada")
    print(f"inbox bench: {_load()} at start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ours_port, floor_port = free_port(), free_port()
        config_path = root / "config.toml"
        config_path.write_text(_config_text(root, ours_port))
        asyncio.run(_prepare_ours(config_path, actor.document()))
        pem = root / "remote.pem"
        pem.write_text(actor.public_key_pem)
        ours = ServerProcess(["ours", str(config_path)], ours_port)
        floor = ServerProcess(["floor", str(root / "floor.sqlite3"), str(floor_port), str(pem)], floor_port)
        accepted: dict[str, list[Accepted]] = {"ours": [], "floor": []}
        processed: list[Processed] = []
        try:
            # one warm-up request each (imports, the first connection, the key cache)
            for name, server in (("ours", ours), ("floor", floor)):
                accept_run(server, sign_activities(actor, f"http://127.0.0.1:{server.port}/inbox", 1,
                                                   f"warm-{name}"), 1)
            processed.append(asyncio.run(drain_inbox(config_path)))   # the warm-up row; not reported
            processed.clear()
            for run in range(args.runs):
                for name, server in (("ours", ours), ("floor", floor)) if run % 2 == 0 else (("floor", floor),
                                                                                           ("ours", ours)):
                    requests = sign_activities(actor, f"http://127.0.0.1:{server.port}/inbox", args.activities,
                                               f"{name}-{run}")
                    accepted[name].append(accept_run(server, requests, args.concurrency))
                processed.append(asyncio.run(drain_inbox(config_path)))   # ours' queue back to empty
        finally:
            ours.close()
            floor.close()
    print("\n".join(report(accepted, processed, args)), flush=True)
    print(f"inbox bench: {_load()} at end", flush=True)


def report(accepted: dict[str, list[Accepted]], processed: list[Processed], args: argparse.Namespace) -> list[str]:
    def median(values: Sequence[float]) -> float:
        return statistics.median(values)

    ours_rate = median([a.per_second for a in accepted["ours"]])
    floor_rate = median([a.per_second for a in accepted["floor"]])
    ours_cpu = median([a.cpu_per_request for a in accepted["ours"]])
    floor_cpu = median([a.cpu_per_request for a in accepted["floor"]])
    lines = [
        f"inbox accept, {args.activities} signed Create(Note) per run, client concurrency {args.concurrency},"
        f" uvicorn, one server process, median of {args.runs} runs:",
        f"  floor (verify + digest + parse + insert)  {floor_rate:7.0f} accepted/s"
        f"   server CPU {floor_cpu * 1e6:5.0f} µs/request"
        f"   [runs: {', '.join(f'{a.per_second:.0f}' for a in accepted['floor'])}/s]",
        f"  ours (POST /inbox)                         {ours_rate:7.0f} accepted/s"
        f"   server CPU {ours_cpu * 1e6:5.0f} µs/request"
        f"   [runs: {', '.join(f'{a.per_second:.0f}' for a in accepted['ours'])}/s]",
        f"  ratio ours/floor: accepted/s {ours_rate / floor_rate:.2f} (target >= 0.75),"
        f" CPU per request {ours_cpu / floor_cpu:.2f}",
    ]
    if processed:
        rate = median([p.per_second for p in processed])
        cpu = median([p.cpu_per_row for p in processed])
        lines.append(
            f"inbox worker, Create(Note) rows, InboxWorker.step() until idle: {rate:.0f} processed/s,"
            f" {cpu * 1e6:.0f} µs CPU per row"
            f"   [runs: {', '.join(f'{p.per_second:.0f}' for p in processed)}/s of {processed[0].rows} rows]")
    return lines


if __name__ == "__main__":
    main()
