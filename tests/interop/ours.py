"""What our server did with an activity, read from its database and log; and the verdict when a flow stalls.

A flow that stalls because a piece of our server is not written yet is an expected failure naming that
piece (`pytest.xfail("waiting for ...")`); a flow that stalls although the piece exists is a real failure
with everything both sides logged."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import httpx
import pytest

from tests.interop.peer import PeerProcess
from tests.support.processes import ServerProcess

__all__ = ["db_rows", "explain_no_effect", "explain_outgoing", "report", "require_processed"]


@contextmanager
def _db(server: ServerProcess) -> Iterator[sqlite3.Connection]:
    path = server.root / "data" / "db.sqlite3"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    connection.row_factory = sqlite3.Row
    try:
        yield connection
    finally:
        connection.close()


def db_rows(server: ServerProcess, sql: str, *params: object) -> list[dict[str, Any]]:
    """Rows of a read-only query on the live server's database."""
    with _db(server) as db:
        return [dict(row) for row in db.execute(sql, params)]


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def report(server: ServerProcess, peer: PeerProcess) -> str:
    """Both logs and the peer's record, for a failure message."""
    try:
        seen = json.dumps(peer.received(), indent=1)[-6000:]
    except (httpx.HTTPError, ValueError) as e:  # a diagnostic must not hide the failure it explains
        seen = f"(peer not answering: {e})"
    server_log = _tail(server.log.read_text(errors="replace"))
    return f"\n--- our server log ---\n{server_log}\n--- peer log ---\n{peer.log_tail()}\n--- peer record ---\n{seen}"


def _missing_code(server: ServerProcess) -> str | None:
    """A NotImplementedError in our server's log names a piece that is not written yet."""
    log = server.log.read_text(errors="replace")
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "NotImplementedError" in line:
            frames = [ln.strip() for ln in lines[max(0, i - 6):i] if ln.strip().startswith('File "')]
            return frames[-1] if frames else line.strip()
    return None


def _peer_errors_for(peer: PeerProcess, activity_id: str) -> list[dict[str, Any]]:
    return [e for e in peer.received()["errors"] if e.get("activity") == activity_id]


def require_processed(server: ServerProcess, peer: PeerProcess, activity_id: str, what: str) -> None:
    """Return if our inbox took and processed `activity_id` from the peer; else xfail (a piece of ours is
    missing) or fail (it is there and something went wrong)."""
    errors = _peer_errors_for(peer, activity_id)
    statuses = {int(e["statusCode"]) for e in errors if e.get("statusCode") is not None}
    queued = db_rows(server, "SELECT state, attempts, last_error FROM inbox_queue WHERE activity_id = ?",
                     activity_id)
    if not queued:
        if statuses and statuses <= {404, 405}:
            pytest.xfail(f"waiting for the inbox endpoint (inbox/endpoint.py): Fedify's {what} was answered "
                         f"{sorted(statuses)}")
        pytest.fail(f"our inbox did not take Fedify's {what} {activity_id}: {errors}" + report(server, peer))
    row = queued[0]
    if row["state"] == "done":
        return
    if row["state"] == "queued" and row["attempts"] == 0:
        pytest.xfail(f"waiting for the inbox worker (inbox/worker.py): Fedify's {what} is queued, never claimed")
    missing = _missing_code(server)
    if missing is not None:
        pytest.xfail(f"waiting for {missing} (NotImplementedError while handling Fedify's {what})")
    pytest.fail(f"our inbox worker could not process Fedify's {what} {activity_id}: {row}" + report(server, peer))


def explain_no_effect(server: ServerProcess, peer: PeerProcess, activity_id: str, what: str) -> NoReturn:
    """The peer's `activity_id` should have changed something on our side and did not."""
    require_processed(server, peer, activity_id, what)
    log = server.log.read_text(errors="replace")
    if any("ignored" in line and activity_id in line for line in log.splitlines()):
        pytest.xfail(f"waiting for a handler (inbox/handlers): inbox.dispatch ignored Fedify's {what}")
    missing = _missing_code(server)
    if missing is not None:
        pytest.xfail(f"waiting for {missing} (NotImplementedError while handling Fedify's {what})")
    pytest.fail(f"our server processed Fedify's {what} {activity_id} without effect" + report(server, peer))


def explain_outgoing(server: ServerProcess, peer: PeerProcess, what: str, activity_uri: str | None = None,
                     ) -> NoReturn:
    """We should have delivered our `what` (`activity_uri`, or anything queued for the peer's host when it
    is not known) to the peer, and the peer has not recorded it."""
    seen = peer.received()
    unverified = [e for e in seen["errors"] if e.get("kind") == "unverified"]
    if unverified:
        pytest.fail(f"Fedify could not verify our {what}: {unverified}" + report(server, peer))
    refused = [r for r in seen["inboxRequests"] if r["status"] >= 400]
    if refused:
        pytest.fail(f"Fedify refused our {what}: {refused}" + report(server, peer))
    if activity_uri is not None:
        rows = db_rows(server, "SELECT activity_uri, inbox_url, state, attempts, last_error FROM deliveries "
                       "WHERE activity_uri = ?", activity_uri)
    else:
        rows = db_rows(server, "SELECT activity_uri, inbox_url, state, attempts, last_error FROM deliveries "
                       "WHERE host = ?", peer.domain)
    missing = _missing_code(server)
    if not rows:
        if missing is not None:
            pytest.xfail(f"waiting for {missing} (NotImplementedError; our {what} was never queued)")
        pytest.fail(f"our {what} was never queued for delivery to the peer" + report(server, peer))
    if all(r["state"] == "queued" and r["attempts"] == 0 for r in rows):
        pytest.xfail(f"waiting for the delivery worker (outbox/delivery.py): our {what} is queued, never sent")
    pytest.fail(f"our {what} did not reach the peer: {rows}" + report(server, peer))
