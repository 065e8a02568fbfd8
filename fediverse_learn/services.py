"""The Services container: what handlers need (store, HTTP client, clock, keys, resolver), built by app.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fediverse_learn.clock import Clock
from fediverse_learn.config import Config
from fediverse_learn.events import EventBus
from fediverse_learn.http import HttpClient
from fediverse_learn.ids import IdGenerator
from fediverse_learn.keys import PrivateKeyCache
from fediverse_learn.resolver import Resolver
from fediverse_learn.signers import CavageSigner
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.db import Database
from fediverse_learn.store.domains import DomainRules, load_rules
from fediverse_learn.uris import Uris

__all__ = ["Services"]

RULES_TTL = 5.0   # domain rules may be changed by the CLI in another process


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    http: HttpClient
    uris: Uris
    keys: PrivateKeyCache
    resolver: Resolver
    instance: LocalActor
    ids: IdGenerator = field(default_factory=IdGenerator)
    events: EventBus = field(default_factory=EventBus, repr=False)
    """In-process publish/subscribe for the streaming API."""
    kick: Callable[[str], None] = field(default=lambda name: None, repr=False)
    """Wake a worker by name ("inbox", "delivery") after queueing work for it."""
    _rules: DomainRules | None = field(default=None, repr=False)
    _rules_at: float = field(default=0.0, repr=False)

    def signer_for(self, actor: LocalActor) -> CavageSigner:
        """The signer of a local actor (the instance actor included)."""
        key_id = self.uris.instance_key_id() if actor.is_instance else self.uris.key_id(actor.name)
        return CavageSigner(key_id, self.keys.load(actor.private_key_pem), self.clock)

    async def domain_rules(self) -> DomainRules:
        now = self.clock.time()
        if self._rules is None or not 0 <= now - self._rules_at < RULES_TTL:
            self._rules = await load_rules(self.db, self.config.federation.mode)
            self._rules_at = now
        return self._rules

    def forget_domain_rules(self) -> None:
        self._rules = None

    async def host_allowed(self, host: str) -> bool:
        return (await self.domain_rules()).allows(host)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.db.close()
