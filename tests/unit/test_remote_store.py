"""The cache of remote actors read for a whole page at once (`get_remote_actors`), as one by one."""

from __future__ import annotations

from fediverse_learn.store.remote import get_remote_actor, get_remote_actors, mark_gone, save_remote_actor
from tests.support.instances import Federation
from tests.unit.test_audience import _remote


async def test_many_actors_read_at_once_as_one_by_one(federation: Federation) -> None:
    # Given 1,200 cached actors (more than one query's chunk of 500), one of them gone
    a = await federation.add("a.test")
    uris = [f"http://far{n}.test/users/u{n}" for n in range(1200)]
    for n, uri in enumerate(uris):
        await save_remote_actor(a.services.db, _remote(uri, None), float(n))
    await mark_gone(a.services.db, uris[7], 5000.0)
    # When they are read together with an unknown uri
    found = await get_remote_actors(a.services.db, [*uris, "http://unknown.test/users/x"])
    # Then each known, present actor comes back as get_remote_actor gives it; the gone and unknown do not
    assert set(found) == set(uris) - {uris[7]}
    for uri in (uris[0], uris[600], uris[1199]):
        assert found[uri] == await get_remote_actor(a.services.db, uri)
    assert found[uris[1199]][0].username == "u1199" and found[uris[1199]][1] == 1199.0
