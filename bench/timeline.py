"""Home timeline: latency of `GET /api/v1/timelines/home?limit=20` with 100,000 statuses in the database.

A real instance (initialize + build_services on a temp SQLite file, as tests/support/instances.py) with a
member `ada` and a read token; ada follows N remote accounts (remote_actors rows + accepted follows). The
`objects` table gets S statuses, ids from `services.ids.next(t)` with t spread over 30 days, inserted with
executemany in batches of 5,000 per transaction: ~5% ada's own, ~45% from followed accounts (public,
unlisted, followers-only; a few direct ones addressed to ada) and ~50% public ones from unrelated accounts.
Then the first page, and one page deeper (max_id = the last id of the first page), are requested through
httpx.ASGITransport in this process: warm-up requests first, then timed requests, p50/p95/p99 in ms.
Every page must be full. Also printed: the DB size and the query plan of the home query. Usage:
    python -m bench.timeline [--statuses 100000] [--followed 200] [--requests 500] [--warmup 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson

from fediverse_learn.app import build_services, create_app, initialize
from fediverse_learn.config import parse_config
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.services import Services
from fediverse_learn.store import actors as actor_store

HOST = "timeline.bench.test"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
DAYS = 30
BATCH = 5_000
INSERT = (
    "INSERT INTO objects (id, uri, local_actor_id, author_uri, type, visibility, content_html, addressing,"
    " tags, published) VALUES (?, ?, ?, ?, 'Note', ?, ?, ?, '[]', ?)"
)
HOME_SQL = (   # the query of store/api_statuses.home_page, first page
    "SELECT id FROM objects WHERE deleted_at IS NULL AND (author_uri = ? OR (author_uri IN (SELECT followee_uri"
    " FROM follows WHERE follower_uri = ? AND state = 'accepted') AND (visibility != 'direct'"
    " OR instr(addressing, ?) > 0))) ORDER BY id DESC LIMIT ?"
)


async def _populate(services: Services, ada_uri: str, ada_id: int, statuses: int, followed: int,
                    seed: int) -> None:
    from fediverse_learn.converters import RemoteActor
    from fediverse_learn.store.remote import save_remote_actor

    rng = random.Random(seed)
    now = services.clock.time()
    followed_uris = [f"http://f{i % 20}.bench.test/users/u{i}" for i in range(followed)]
    other_uris = [f"http://o{i % 20}.bench.test/users/x{i}" for i in range(followed)]
    for uri in followed_uris + other_uris:   # the store's own writer, so that the stored JSON is its format
        host, username = uri.split("/")[2], uri.rsplit("/", 1)[1]
        await save_remote_actor(services.db, RemoteActor(
            uri=uri, type="Person", username=username, domain=host, name=username, summary_html="", url=None,
            inbox=f"{uri}/inbox", shared_inbox=f"http://{host}/inbox", outbox=None, followers=f"{uri}/followers",
            following=None, featured=None, keys=(), manually_approves_followers=False, discoverable=True,
            indexable=True, bot=False, also_known_as=(), moved_to=None, published=None, icon_url=None,
            header_url=None, posting_restricted_to_mods=False, moderators=None), now)
    async with services.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO follows (follower_uri, followee_uri, state, created_at) VALUES (?, ?, 'accepted', ?)",
            [(ada_uri, uri, now) for uri in followed_uris])
    ada_followers = f"{ada_uri}/followers"
    times = sorted(now - rng.random() * DAYS * 86400 for _ in range(statuses))
    rows: list[tuple[Any, ...]] = []
    for n, t in enumerate(times):
        oid = services.ids.next(t)
        kind = rng.random()
        if kind < 0.05:
            author, local_id, vis = ada_uri, ada_id, "public"
            addressing = {"to": [PUBLIC], "cc": [ada_followers]}
            uri = f"http://{HOST}/users/ada/statuses/{oid}"
        elif kind < 0.50:
            author, local_id = rng.choice(followed_uris), None
            roll = rng.random()
            vis = "public" if roll < 0.7 else "unlisted" if roll < 0.85 else "private" if roll < 0.97 else "direct"
            to = {"public": [PUBLIC], "unlisted": [f"{author}/followers"], "private": [f"{author}/followers"],
                  "direct": [ada_uri] if rng.random() < 0.5 else [f"{author}/x"]}[vis]
            addressing = {"to": to, "cc": [PUBLIC] if vis == "unlisted" else []}
            uri = f"{author}/statuses/{n}"
        else:
            author, local_id, vis = rng.choice(other_uris), None, "public"
            addressing = {"to": [PUBLIC], "cc": [f"{author}/followers"]}
            uri = f"{author}/statuses/{n}"
        content = f"<p>status {n} by {author.rsplit('/', 1)[1]}: " + "lorem ipsum dolor sit amet " * 4 + "</p>"
        rows.append((oid, uri, local_id, author, vis, content, orjson.dumps(addressing).decode(), t))
        if len(rows) == BATCH:
            async with services.db.transaction() as tx:
                await tx.executemany(INSERT, rows)
            rows = []
    if rows:
        async with services.db.transaction() as tx:
            await tx.executemany(INSERT, rows)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(statuses: int, followed: int, requests: int, warmup: int, seed: int) -> None:
    print(f"timeline: {statuses:,} statuses, ada follows {followed}, {requests} timed requests"
          f" (warm-up {warmup}) per page; load {_loadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        root = Path(tmp)
        config = parse_config({
            "instance": {"domain": HOST, "base_url": f"http://{HOST}", "name": "bench", "registrations": "closed"},
            "storage": {"database": str(root / "db.sqlite3"), "media_dir": str(root / "media")},
            "federation": {"allow_http": True},
        }, "<bench timeline>")
        await initialize(config)
        services = await build_services(config)
        app = create_app(services, close_services=True, run_workers=False)
        try:
            ada = await actor_store.create_actor(services.db, name="ada", kind="person",
                                                 keys=await generate_key_pair(), now=services.clock.time())
            token = await actor_store.create_token(services.db, ada, "read write follow", services.clock.time())
            ada_uri = services.uris.actor("ada")
            started = time.perf_counter()
            await _populate(services, ada_uri, ada.id, statuses, followed, seed)
            count = await services.db.fetchval("SELECT count(*) FROM objects")
            db_files = [root / n for n in ("db.sqlite3", "db.sqlite3-wal")]
            size = sum(p.stat().st_size for p in db_files if p.exists())
            print(f"  populated {count:,} objects in {time.perf_counter() - started:.1f} s;"
                  f" DB size {size / 2**20:.1f} MiB (db + wal)")
            with sqlite3.connect(root / "db.sqlite3") as conn:   # the plan and time of the bare home query
                args = (ada_uri, ada_uri, orjson.dumps(ada_uri).decode(), 20)
                plan = conn.execute("EXPLAIN QUERY PLAN " + HOME_SQL, args).fetchall()
                t0 = time.perf_counter()
                for _ in range(5):
                    conn.execute(HOME_SQL, args).fetchall()
                bare_ms = (time.perf_counter() - t0) * 1000 / 5
            conn.close()
            print("  home query plan: " + "; ".join(str(r[3]) for r in plan))
            print(f"  bare home query (sqlite3, first page): {bare_ms:.1f} ms")
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{HOST}",
                                         headers=headers) as client:
                first = await client.get("/api/v1/timelines/home", params={"limit": 20})
                assert first.status_code == 200, first.text
                page = first.json()
                assert len(page) == 20, f"first page has {len(page)} statuses"
                max_id = page[-1]["id"]
                pages = {"page 1": {"limit": 20}, "page 2 (max_id)": {"limit": 20, "max_id": max_id}}
                timings: dict[str, list[float]] = {name: [] for name in pages}
                for i in range(warmup + requests):   # the two pages interleaved
                    for name, params in pages.items():
                        t0 = time.perf_counter()
                        response = await client.get("/api/v1/timelines/home", params=params)
                        elapsed = time.perf_counter() - t0
                        assert response.status_code == 200 and len(response.json()) == 20, name
                        if i >= warmup:
                            timings[name].append(elapsed * 1000)
            for name, ms in timings.items():
                print(f"  {name:16} p50 {_pct(ms, 50):6.2f} ms  p95 {_pct(ms, 95):6.2f} ms"
                      f"  p99 {_pct(ms, 99):6.2f} ms  mean {statistics.fmean(ms):6.2f} ms")
        finally:
            await services.db.close()
    print(f"  load at the end {_loadavg()}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline", description=__doc__.split("\n")[0])
    parser.add_argument("--statuses", type=int, default=100_000)
    parser.add_argument("--followed", type=int, default=200)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(run(args.statuses, args.followed, args.requests, args.warmup, args.seed))


if __name__ == "__main__":
    main()
