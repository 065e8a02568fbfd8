"""End to end: two real `fediverse-learn serve` processes on loopback."""

from __future__ import annotations

import json
import signal
import sqlite3

import httpx
import pytest

from tests.support.processes import ServerProcess

pytestmark = pytest.mark.e2e


def test_one_server_resolves_the_others_member_by_handle(servers: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = servers
    # Given a member on b
    assert b.cli("member", "add", "bea", "--display-name", "Bea").returncode == 0
    # When a resolves her handle (WebFinger, then a signed GET as a's instance actor)
    result = a.cli("resolve", f"bea@{b.domain}")
    # Then a knows her actor, and b verified a's signature by fetching a's instance actor key
    assert result.returncode == 0, result.stderr
    actor = json.loads(result.stdout)
    assert actor["uri"] == f"{b.base}/users/bea"
    assert actor["name"] == "Bea"
    assert actor["inbox"] == f"{b.base}/users/bea/inbox"
    with sqlite3.connect(b.root / "data" / "db.sqlite3") as db:
        owners = [row[0] for row in db.execute("SELECT owner_uri FROM remote_keys")]
    assert owners == [f"{a.base}/actor"]


def test_serve_stops_gracefully_on_sigterm(servers: tuple[ServerProcess, ServerProcess]) -> None:
    a, _ = servers
    assert httpx.get(f"{a.base}/.well-known/nodeinfo").status_code == 200
    # uvicorn re-raises the signal after its graceful shutdown, as a service manager expects
    assert a.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in a.log.read_text()
