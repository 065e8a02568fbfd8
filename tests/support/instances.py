"""In-process instances for federation tests: real apps, real SQLite files, real keys, one shared clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from fediverse_learn.app import app_workers, build_services, create_app, initialize
from fediverse_learn.clock import FakeClock
from fediverse_learn.config import Config, parse_config
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.services import Services
from fediverse_learn.store import actors as actor_store
from fediverse_learn.workers import Worker
from tests.support.network import Network

__all__ = ["Federation", "Instance", "make_config"]


def make_config(host: str, root: Path, **federation: Any) -> Config:
    data: dict[str, Any] = {
        "instance": {"domain": host, "base_url": f"http://{host}", "name": f"Test {host}",
                     "registrations": "closed"},
        "storage": {"database": str(root / "db.sqlite3"), "media_dir": str(root / "media")},
        "federation": {"allow_http": True, "allow_private_addresses": False, **federation},
    }
    return parse_config(data, f"<test {host}>")


@dataclass
class Instance:
    host: str
    services: Services
    app: Starlette
    client: httpx.AsyncClient       # talks to this instance's own app
    workers: list[Worker]

    async def step(self) -> int:
        """One step of each worker; how many items were handled."""
        return sum([await w.step() for w in self.workers])

    @property
    def base(self) -> str:
        return f"http://{self.host}"

    async def add_member(self, name: str, **kw: Any) -> actor_store.LocalActor:
        return await actor_store.create_actor(self.services.db, name=name, kind="person",
                                              keys=await generate_key_pair(),
                                              now=self.services.clock.time(), **kw)

    async def token(self, name: str) -> str:
        actor = await actor_store.get_actor(self.services.db, name)
        assert actor is not None
        return await actor_store.create_token(self.services.db, actor, "read write follow",
                                              self.services.clock.time())


class Federation:
    """A set of instances on one routing network and one clock the test advances."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clock = FakeClock()
        self.network = Network()
        self.instances: dict[str, Instance] = {}

    async def add(self, host: str, **federation: Any) -> Instance:
        root = self.root / host
        root.mkdir(parents=True)
        config = make_config(host, root, **federation)
        await initialize(config, self.clock)
        services = await build_services(config, clock=self.clock, transport=self.network)
        app = create_app(services)
        self.network.add(host, app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")
        instance = Instance(host=host, services=services, app=app, client=client, workers=app_workers(services))
        self.instances[host] = instance
        return instance

    async def settle(self, max_rounds: int = 200) -> int:
        """Step every instance's workers until all are idle; return the number of rounds."""
        for round_no in range(1, max_rounds + 1):
            handled = 0
            for instance in list(self.instances.values()):
                handled += await instance.step()
            if handled == 0:
                return round_no
        raise AssertionError(f"workers still busy after {max_rounds} rounds")

    async def aclose(self) -> None:
        for instance in self.instances.values():
            await instance.client.aclose()
            await instance.services.aclose()
