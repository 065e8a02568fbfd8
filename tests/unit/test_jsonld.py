"""Unit tests for fediverse_learn.jsonld: frozen contexts, unsafe keywords, compaction."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyld import jsonld as pyld_jsonld

import fediverse_learn
from fediverse_learn.errors import ValidationError
from fediverse_learn.jsonld import (
    ACTIVITYSTREAMS,
    DATA_INTEGRITY_V1,
    IDENTITY_V1,
    MAX_DEPTH,
    MAX_NODES,
    MULTIKEY_V1,
    SECURITY_V1,
    compact,
    context_documents,
    document_loader,
    has_unsafe_keywords,
)
from fediverse_learn.vocab import PUBLIC, is_public

FIXTURES = Path(__file__).parent.parent / "fixtures"
SERVERS = ("mastodon", "gotosocial", "lemmy", "misskey", "fedify")
ALL_FIXTURES = sorted(p for server in SERVERS for p in (FIXTURES / server).glob("*.json"))
# Servers whose payloads can carry LD signatures (Mastodon, Misskey: RsaSignature2017; Fedify: also proofs).
LD_SIGNING_FIXTURES = sorted(
    p for server in ("mastodon", "misskey", "fedify") for p in (FIXTURES / server).glob("*.json")
)


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
    return data


def nested(depth: int, key: str = "object") -> dict[str, Any]:
    """A dict nested `depth` levels deep, built without recursion."""
    doc: dict[str, Any] = {"type": "Note"}
    for _ in range(depth):
        doc = {"type": "Announce", key: doc}
    return doc


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to resolve or connect, or to use pyld's default loader, is recorded and refused."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", refuse)
    return attempts


def test_context_documents_cover_pyld_bundle_and_our_vendored_contexts() -> None:
    documents = context_documents()
    for url in (ACTIVITYSTREAMS, SECURITY_V1, IDENTITY_V1, DATA_INTEGRITY_V1, MULTIKEY_V1):
        assert url in documents
    assert documents["http://www.w3.org/ns/activitystreams"] == documents[ACTIVITYSTREAMS]


def test_vendored_context_files_ship_inside_the_package() -> None:
    contexts = Path(fediverse_learn.__file__ or "").parent / "contexts"
    names = sorted(p.name for p in contexts.glob("*.json"))
    assert names == ["identity-v1.json", "security-data-integrity-v1.json", "security-multikey-v1.json"]
    for path in contexts.glob("*.json"):
        assert "@context" in json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("url", sorted(context_documents()))
def test_document_loader_serves_every_known_context(url: str, no_network: list[str]) -> None:
    remote = document_loader()(url, {})
    assert remote["documentUrl"] == url
    assert "@context" in remote["document"]
    assert no_network == []


def test_document_loader_refuses_unknown_url_without_a_request(no_network: list[str]) -> None:
    with pytest.raises(pyld_jsonld.JsonLdError):
        document_loader()("https://evil.test/context.jsonld", {})
    assert no_network == []


def test_compact_with_unknown_context_fails_without_a_request(no_network: list[str]) -> None:
    doc = {"@context": [ACTIVITYSTREAMS, "https://evil.test/ctx.jsonld"], "type": "Note", "content": "x"}
    with pytest.raises(ValidationError, match=r"evil\.test"):
        compact(doc)
    assert no_network == []


def test_importing_core_modules_does_not_load_pyld() -> None:
    code = (
        "import sys, fediverse_learn.jsonld, fediverse_learn.vocab, fediverse_learn.converters;"
        "print('pyld' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_world_fixtures_have_no_unsafe_keywords(path: Path) -> None:
    assert not has_unsafe_keywords(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": ACTIVITYSTREAMS, "@graph": [{"type": "Announce"}]},
        {"type": "Create", "object": {"type": "Note", "@included": [{"id": "https://a.test/x"}]}},
        {"type": "Create", "object": [{"tag": [{"@reverse": {"as:actor": "https://a.test/x"}}]}]},
        {"@context": [ACTIVITYSTREAMS, {"r": {"@reverse": "as:actor"}}], "r": "https://a.test/x"},
        {"@context": [ACTIVITYSTREAMS, {"g": "@graph"}], "g": [{"type": "Announce"}]},
        {"@context": [ACTIVITYSTREAMS, {"g": {"@id": "@included"}}], "g": {"id": "https://a.test/x"}},
        {"@context": [ACTIVITYSTREAMS, {"p": {"@id": "as:p", "@container": "@graph"}}], "p": {}},
        {"@context": [ACTIVITYSTREAMS, {"p": {"@id": "as:p", "@container": ["@graph", "@set"]}}]},
    ],
)
def test_has_unsafe_keywords_finds_graph_restructuring_anywhere(doc: dict[str, Any]) -> None:
    assert has_unsafe_keywords(doc)


def test_has_unsafe_keywords_survives_10000_levels_of_nesting() -> None:
    assert has_unsafe_keywords(nested(10_000))
    deep_list: list[Any] = []
    for _ in range(10_000):
        deep_list = [deep_list]
    assert has_unsafe_keywords({"type": "Note", "tag": deep_list})


def test_has_unsafe_keywords_accepts_nesting_up_to_the_limit() -> None:
    assert not has_unsafe_keywords(nested(MAX_DEPTH))
    assert has_unsafe_keywords(nested(MAX_DEPTH + 1))


def test_has_unsafe_keywords_refuses_oversized_documents() -> None:
    assert has_unsafe_keywords({"type": "Note", "to": ["https://a.test/u"] * (MAX_NODES + 1)})


def test_compact_refuses_deep_nesting_without_recursing() -> None:
    with pytest.raises(ValidationError, match="deeper"):
        compact({"@context": ACTIVITYSTREAMS, **nested(10_000)})


def test_compact_refuses_unsafe_keywords_in_the_input() -> None:
    with pytest.raises(ValidationError, match="@graph"):
        compact({"@context": ACTIVITYSTREAMS, "@graph": [{"type": "Announce", "actor": "https://a.test/u"}]})


def test_compact_refuses_output_wrapped_in_graph() -> None:
    # Given a Fedify proof (a @graph container) compacted against a context that lacks the term
    doc = load("fedify/create_note_proof.json")
    # Then the output would carry a @graph wrapper, which is refused (Fedify CVE-2026-42462)
    with pytest.raises(ValidationError, match="compacts into"):
        compact(doc, [ACTIVITYSTREAMS])


def test_compact_refuses_a_non_object_input() -> None:
    with pytest.raises(ValidationError):
        compact({"@context": 5, "type": "Note"})


@pytest.mark.parametrize("path", LD_SIGNING_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compact_handles_every_ld_signing_server_fixture(path: Path, no_network: list[str]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("signature", None)
    compacted = compact(doc)
    assert compacted["id"] == doc["id"]
    assert compacted["type"] == doc["type"]
    assert no_network == []


@pytest.mark.parametrize("relative", ["gotosocial/create_note_public.json", "lemmy/group.json"])
def test_compact_fails_closed_on_contexts_we_do_not_bundle(relative: str) -> None:
    # GoToSocial and Lemmy never LD-sign; their context URLs are unbundled on purpose, so compaction fails.
    with pytest.raises(ValidationError, match="outside the allowed set"):
        compact(load(relative))


def test_compact_keeps_the_terms_converters_read() -> None:
    doc = load("mastodon/create_note_public.json")
    doc.pop("signature")
    compacted = compact(doc)
    note = compacted["object"]
    assert is_public(compacted["to"])
    assert note["attributedTo"] == "https://mastodon.test/users/ada"
    assert note["sensitive"] is False
    assert {tag["type"] for tag in note["tag"]} == {"Mention", "Hashtag"}
    assert note["contentMap"]["en"] == doc["object"]["content"]


def test_compact_keeps_fedify_proof_as_a_plain_member() -> None:
    compacted = compact(load("fedify/create_note_proof.json"))
    assert compacted["proof"]["type"] == "DataIntegrityProof"
    assert compacted["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert compacted["to"] in ("as:Public", PUBLIC)


def test_compact_is_not_fooled_by_a_redefined_term() -> None:
    # Given an attacker context that maps "content" onto another IRI
    doc = {
        "@context": [ACTIVITYSTREAMS, {"content": "https://evil.test/ns#c", "realContent": "as:content"}],
        "type": "Note",
        "content": "what a naive reader sees",
        "realContent": "what the signature covers",
    }
    # Then the compacted form exposes the signed meaning under the standard term
    compacted = compact(doc)
    assert compacted["content"] == "what the signature covers"
    assert compacted["https://evil.test/ns#c"] == "what a naive reader sees"


def _sha256_nquads(doc: dict[str, Any]) -> str:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader()}
    return hashlib.sha256(pyld_jsonld.normalize(doc, options).encode()).hexdigest()


def test_frozen_contexts_suffice_to_verify_a_mastodon_ld_signature(no_network: list[str]) -> None:
    # Given Mastodon's Create with an RsaSignature2017 and the author's key from the actor document
    doc = load("mastodon/create_note_public.json")
    pem = load("mastodon/person.json")["publicKey"]["publicKeyPem"]
    public_key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public_key, rsa.RSAPublicKey)
    signature = doc.pop("signature")
    options = {k: v for k, v in signature.items() if k not in ("type", "id", "signatureValue")}
    options["@context"] = IDENTITY_V1
    # When it is normalised with nothing but the frozen loader (identity/v1 is one of our vendored contexts)
    to_verify = (_sha256_nquads(options) + _sha256_nquads(doc)).encode()
    # Then the signature verifies, and no request was made
    signature_bytes = base64.b64decode(signature["signatureValue"])
    public_key.verify(signature_bytes, to_verify, padding.PKCS1v15(), hashes.SHA256())
    assert no_network == []
