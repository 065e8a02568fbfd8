"""Timelines: latency of the client API's timelines (home, public, hashtag, account) with 100,000 statuses.

A real instance (initialize + build_services on a temp SQLite file, as tests/support/instances.py) with
members whose home timelines differ in how many accounts they follow and how much those accounts post:
`zero` follows nobody, `ten` follows 10 of the 1,000 active remote accounts (their statuses are rare among
all: ~0.6%), `thousand` follows all 1,000 of them (~60% of all statuses; it mutes 20 and blocks 5), `quiet`
follows 1,000 accounts that posted ~0.3% of all statuses. Each member posts ~1% of the statuses; 1,000
unfollowed accounts post the rest. Ids come from `services.ids.next(t)`, t spread over 30 days; rows are
inserted with executemany in batches of 5,000 per transaction. ~3% of statuses are boosted (reactions rows
with their own time-sortable status_id) by active accounts, a few by quiet ones; 5% carry #common, 0.1%
#rare. Then each case's first page, and one page deeper (max_id = the last id of the first page), are
requested through httpx.ASGITransport in this process: warm-up requests first, then timed requests, the cases
interleaved; p50/p95/p99 in ms. Every page must hold `limit` statuses. Also printed: the DB size and the query
plans of the home timeline's two steps. Usage:
    python -m bench.timeline [--statuses 100000] [--requests 200] [--warmup 10] [--cases home-10 public ...]
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from fediverse_learn.app import build_services, create_app, initialize
from fediverse_learn.config import parse_config
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.services import Services
from fediverse_learn.store import actors as actor_store
from fediverse_learn.store import api_statuses

HOST = "timeline.bench.test"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
DAYS = 30
BATCH = 5_000
ACCOUNTS = 1_000
MEMBERS = ("zero", "ten", "thousand", "quiet")
INSERT = (
    "INSERT INTO objects (id, uri, local_actor_id, author_uri, type, visibility, content_html, addressing,"
    " tags, published) VALUES (?, ?, ?, ?, 'Note', ?, ?, ?, ?, ?)"
)
BOOST = ("INSERT INTO reactions (kind, actor_uri, object_uri, activity_uri, published, status_id)"
         " VALUES ('announce', ?, ?, ?, ?, ?)")


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    member: str | None = None       # whose token (None: signed out)
    params: tuple[tuple[str, str], ...] = ()


CASES = (
    Case("home-0", "/api/v1/timelines/home", "zero"),
    Case("home-10", "/api/v1/timelines/home", "ten"),
    Case("home-1000", "/api/v1/timelines/home", "thousand"),
    Case("home-1000-quiet", "/api/v1/timelines/home", "quiet"),
    Case("public", "/api/v1/timelines/public"),
    Case("public-member", "/api/v1/timelines/public", "thousand"),
    Case("public-local", "/api/v1/timelines/public", None, (("local", "true"),)),
    Case("public-remote", "/api/v1/timelines/public", None, (("remote", "true"),)),
    Case("tag-common", "/api/v1/timelines/tag/common"),
    Case("tag-rare", "/api/v1/timelines/tag/rare", None),
    Case("account-local", "/api/v1/accounts/{zero}/statuses", "thousand"),
    Case("account-remote", "/api/v1/accounts/{active}/statuses", "thousand"),
)


def _remote(kind: str, i: int) -> str:
    return f"http://{kind[0]}{i % 20}.bench.test/users/{kind}{i}"


async def _accounts(services: Services, uris: list[str], now: float) -> None:
    from fediverse_learn.converters import RemoteActor
    from fediverse_learn.store.remote import save_remote_actor

    for uri in uris:   # the store's own writer, so that the stored JSON is its format
        host, username = uri.split("/")[2], uri.rsplit("/", 1)[1]
        await save_remote_actor(services.db, RemoteActor(
            uri=uri, type="Person", username=username, domain=host, name=username, summary_html="", url=None,
            inbox=f"{uri}/inbox", shared_inbox=f"http://{host}/inbox", outbox=None, followers=f"{uri}/followers",
            following=None, featured=None, keys=(), manually_approves_followers=False, discoverable=True,
            indexable=True, bot=False, also_known_as=(), moved_to=None, published=None, icon_url=None,
            header_url=None, posting_restricted_to_mods=False, moderators=None), now)


def _addressing(rng: random.Random, author: str, to_member: str) -> tuple[str, dict[str, list[str]]]:
    roll = rng.random()
    vis = "public" if roll < 0.75 else "unlisted" if roll < 0.87 else "private" if roll < 0.97 else "direct"
    to = {"public": [PUBLIC], "unlisted": [f"{author}/followers"], "private": [f"{author}/followers"],
          "direct": [to_member] if rng.random() < 0.5 else [f"{author}/x"]}[vis]
    return vis, {"to": to, "cc": [PUBLIC] if vis == "unlisted" else []}


async def _populate(services: Services, members: dict[str, tuple[int, str]], statuses: int, seed: int) -> None:
    rng = random.Random(seed)
    now = services.clock.time()
    active = [_remote("active", i) for i in range(ACCOUNTS)]
    quiet = [_remote("quiet", i) for i in range(ACCOUNTS)]
    other = [_remote("other", i) for i in range(ACCOUNTS)]
    await _accounts(services, active + quiet + other, now)
    follows = {"ten": active[:10], "thousand": active, "quiet": quiet}
    async with services.db.transaction() as tx:
        for name, followed in follows.items():
            await tx.executemany(
                "INSERT INTO follows (follower_uri, followee_uri, state, created_at) VALUES (?, ?, 'accepted', ?)",
                [(members[name][1], uri, now) for uri in followed])
        thousand_id, thousand_uri = members["thousand"]
        await tx.executemany("INSERT INTO mutes (actor_id, target_uri, created_at) VALUES (?, ?, ?)",
                             [(thousand_id, uri, now) for uri in active[100:120]])
        await tx.executemany("INSERT INTO blocks (actor_uri, target_uri, created_at) VALUES (?, ?, ?)",
                             [(thousand_uri, uri, now) for uri in active[200:205]])
    times = sorted(now - rng.random() * DAYS * 86400 for _ in range(statuses))
    rows: list[tuple[Any, ...]] = []
    boosts: list[tuple[Any, ...]] = []
    member_names = list(members)
    for n, t in enumerate(times):
        oid = services.ids.next(t)
        kind = rng.random()
        to_member = members[rng.choice(member_names)][1]
        if kind < 0.04:
            name = member_names[int(kind / 0.01)]
            local_id, author = members[name]
            vis, addressing = "public", {"to": [PUBLIC], "cc": [f"{author}/followers"]}
            uri = f"http://{HOST}/users/{name}/statuses/{oid}"
        else:
            local_id = None
            author = rng.choice(active if kind < 0.64 else quiet if kind < 0.643 else other)
            vis, addressing = _addressing(rng, author, to_member)
            uri = f"{author}/statuses/{n}"
        tag = rng.random()
        tags = [{"type": "Hashtag", "name": "#common"}] if tag < 0.05 else \
            [{"type": "Hashtag", "name": "#Rare"}] if tag > 0.999 else []
        content = f"<p>status {n} by {author.rsplit('/', 1)[1]}: " + "lorem ipsum dolor sit amet " * 4 + "</p>"
        rows.append((oid, uri, local_id, author, vis, content, orjson.dumps(addressing).decode(),
                     orjson.dumps(tags).decode(), t))
        if vis in ("public", "unlisted") and rng.random() < 0.03:
            booster = rng.choice(quiet) if rng.random() < 0.03 else rng.choice(active)
            at = min(now, t + rng.random() * 86400)
            boosts.append((booster, uri, f"{booster}/activities/{n}", at, services.ids.next(at)))
        if len(rows) == BATCH:
            async with services.db.transaction() as tx:
                await tx.executemany(INSERT, rows)
            rows = []
    async with services.db.transaction() as tx:
        await tx.executemany(INSERT, rows)
        await tx.executemany(BOOST, boosts)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _plans(path: Path, member_uri: str, member_id: int) -> None:
    """EXPLAIN QUERY PLAN of the home timeline's queries (first page), as store/api_statuses runs them."""
    params = {"me": member_uri, "viewer": member_uri, "viewer_id": member_id, "now": time.time(),
              "quoted_viewer": orjson.dumps(member_uri).decode(), "limit": 20, "edge": 0, "window": 1}
    with sqlite3.connect(path) as conn:
        for source in api_statuses._HOME:
            for step, hint, rng in (("window", source.dense, f"{source.key} >= :edge"),
                                    ("beyond", source.sparse, f"{source.key} < :edge")):
                sql = source.sql.format(hint=hint, range=rng, order="DESC")
                plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                print(f"  plan {source.key} {step}: " + "; ".join(str(r[3]) for r in plan)[:400])
    conn.close()


async def _ids(services: Services, members: dict[str, tuple[int, str]]) -> dict[str, str]:
    row = await services.db.fetchval("SELECT id FROM remote_actors WHERE uri = ?", (_remote("active", 3),))
    from fediverse_learn.api.entities import REMOTE_ACCOUNT_BASE
    return {"zero": str(members["zero"][0]), "active": str(REMOTE_ACCOUNT_BASE + int(row))}


async def run(statuses: int, requests: int, warmup: int, seed: int, names: Sequence[str]) -> None:
    cases = [c for c in CASES if not names or c.name in names]
    print(f"timeline: {statuses:,} statuses, {requests} timed requests (warm-up {warmup}) per page and case;"
          f" load {_loadavg()}")
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
            members: dict[str, tuple[int, str]] = {}
            tokens: dict[str, str] = {}
            for name in MEMBERS:
                actor = await actor_store.create_actor(services.db, name=name, kind="person",
                                                       keys=await generate_key_pair(), now=services.clock.time())
                members[name] = (actor.id, services.uris.actor(name))
                tokens[name] = await actor_store.create_token(services.db, actor, "read write follow",
                                                              services.clock.time())
            started = time.perf_counter()
            await _populate(services, members, statuses, seed)
            count = await services.db.fetchval("SELECT count(*) FROM objects")
            boosts = await services.db.fetchval("SELECT count(*) FROM reactions")
            db_files = [root / n for n in ("db.sqlite3", "db.sqlite3-wal")]
            size = sum(p.stat().st_size for p in db_files if p.exists())
            print(f"  populated {count:,} objects, {boosts:,} boosts in {time.perf_counter() - started:.1f} s;"
                  f" DB size {size / 2**20:.1f} MiB (db + wal)")
            _plans(root / "db.sqlite3", members["thousand"][1], members["thousand"][0])
            ids = await _ids(services, members)
            await _measure(app, cases, tokens, ids, requests, warmup)
        finally:
            await services.db.close()
    print(f"  load at the end {_loadavg()}")


async def _measure(app: Any, cases: list[Case], tokens: dict[str, str], ids: dict[str, str], requests: int,
                   warmup: int) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{HOST}") as client:
        pages: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {}
        for case in cases:
            path = case.path.format(**ids)
            headers = {"Authorization": f"Bearer {tokens[case.member]}"} if case.member else {}
            params = {"limit": "20", **dict(case.params)}
            first = await client.get(path, params=params, headers=headers)
            assert first.status_code == 200, first.text
            page = first.json()
            assert len(page) == 20, f"{case.name}: the first page has {len(page)} statuses"
            pages[f"{case.name} p1"] = (path, params, headers)
            pages[f"{case.name} p2"] = (path, {**params, "max_id": page[-1]["id"]}, headers)
        timings: dict[str, list[float]] = {name: [] for name in pages}
        for i in range(warmup + requests):   # every case and page interleaved
            for name, (path, params, headers) in pages.items():
                t0 = time.perf_counter()
                response = await client.get(path, params=params, headers=headers)
                elapsed = time.perf_counter() - t0
                assert response.status_code == 200 and len(response.json()) == 20, name
                if i >= warmup:
                    timings[name].append(elapsed * 1000)
    for name, ms in timings.items():
        print(f"  {name:22} p50 {_pct(ms, 50):7.2f} ms  p95 {_pct(ms, 95):7.2f} ms"
              f"  p99 {_pct(ms, 99):7.2f} ms  mean {statistics.fmean(ms):7.2f} ms")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline", description=__doc__.split("\n")[0])
    parser.add_argument("--statuses", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", nargs="*", default=[], choices=[c.name for c in CASES])
    args = parser.parse_args(argv)
    asyncio.run(run(args.statuses, args.requests, args.warmup, args.seed, args.cases))


if __name__ == "__main__":
    main()
