"""JSON-LD done safely: frozen bundled contexts (never the network), unsafe-keyword detection, compaction."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fediverse_learn.errors import ValidationError

__all__ = [
    "ACTIVITYSTREAMS",
    "COMPACTION_CONTEXT",
    "DATA_INTEGRITY_V1",
    "IDENTITY_V1",
    "MAX_DEPTH",
    "MAX_NODES",
    "MULTIKEY_V1",
    "SECURITY_V1",
    "UNSAFE_KEYWORDS",
    "DocumentLoader",
    "compact",
    "context_documents",
    "document_loader",
    "has_unsafe_keywords",
]

ACTIVITYSTREAMS = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
IDENTITY_V1 = "https://w3id.org/identity/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

# Graph-restructuring keywords: a payload using them may not be treated as LD-signed (SECURITY.md b.4).
UNSAFE_KEYWORDS = frozenset({"@graph", "@included", "@reverse"})
# Real activities nest objects fewer than ten levels deep; deeper is refused before pyld recurses into it.
MAX_DEPTH = 64
MAX_NODES = 100_000

DocumentLoader = Callable[[str, dict[str, Any]], dict[str, Any]]

# Contexts pyld 3.3 does not bundle but fediverse payloads need, vendored in fediverse_learn/contexts/:
# identity/v1 is the @context of RsaSignature2017 signature options (Mastodon, Misskey, Fedify LD signatures);
# data-integrity/v1 and multikey/v1 appear in Fedify's activities (`proof`) and actors (`assertionMethod`).
_VENDORED = {
    IDENTITY_V1: "identity-v1.json",
    DATA_INTEGRITY_V1: "security-data-integrity-v1.json",
    MULTIKEY_V1: "security-multikey-v1.json",
}
# Spellings seen in the wild for the same documents.
_ALIASES = {
    "http://www.w3.org/ns/activitystreams": ACTIVITYSTREAMS,
    "https://www.w3.org/ns/activitystreams.jsonld": ACTIVITYSTREAMS,
    "http://w3id.org/security/v1": SECURITY_V1,
    "http://w3id.org/identity/v1": IDENTITY_V1,
}

# What a compacted document looks like: the terms our converters read, so they can process it unchanged.
COMPACTION_CONTEXT: list[Any] = [
    ACTIVITYSTREAMS,
    SECURITY_V1,
    {
        "toot": "http://joinmastodon.org/ns#",
        "lemmy": "https://join-lemmy.org/ns#",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "Emoji": "toot:Emoji",
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    },
    DATA_INTEGRITY_V1,
]


@functools.cache
def context_documents() -> Mapping[str, Path]:
    """Every context URL served locally, mapped to its JSON file: pyld's bundle, ours, aliases."""
    from pyld import BUNDLED_CONTEXTS  # noqa: PLC0415 -- pyld loads slowly; only LD signatures need it

    here = Path(__file__).parent / "contexts"
    documents: dict[str, Path] = dict(BUNDLED_CONTEXTS)
    documents.update({url: here / name for url, name in _VENDORED.items()})
    documents.update({alias: documents[url] for alias, url in _ALIASES.items()})
    return documents


def document_loader() -> DocumentLoader:
    """A new pyld FrozenDocumentLoader over context_documents(); other URLs raise JsonLdError, unfetched."""
    from pyld import FrozenDocumentLoader  # noqa: PLC0415 -- see context_documents

    loader: DocumentLoader = FrozenDocumentLoader(documents=context_documents())
    return loader


@functools.cache
def _shared_loader() -> DocumentLoader:
    return document_loader()


def _scan(doc: Any) -> tuple[bool, bool]:
    """(uses an unsafe keyword, too deep or big), walking iteratively so hostile nesting cannot recurse."""
    stack: list[tuple[Any, int]] = [(doc, 0)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or (depth > MAX_DEPTH and isinstance(value, Mapping | list | tuple)):
            return False, True
        if isinstance(value, str):
            # A string equal to a keyword is an alias or a container: {"g": "@graph"}, "@container": "@graph".
            if value in UNSAFE_KEYWORDS:
                return True, False
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if key in UNSAFE_KEYWORDS:
                    return True, False
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
    return False, False


def has_unsafe_keywords(doc: Any) -> bool:
    """True if `@graph`, `@included` or `@reverse` occurs at any depth (as a key, alias or container), or if
    the document is deeper than MAX_DEPTH or larger than MAX_NODES, which we refuse to inspect further."""
    unsafe, oversized = _scan(doc)
    return unsafe or oversized


def _reason(exc: BaseException) -> str:
    """One line from the innermost cause of a pyld error (whose str() spans several lines)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    details = getattr(exc, "details", None)
    url = details.get("url") if isinstance(details, dict) else None
    return f"{message} ({url})" if url else message


def compact(doc: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Compact `doc` against COMPACTION_CONTEXT (or `context`) with the frozen loader. CPU-bound and
    synchronous: callers run it off the event loop.

    Raises ValidationError when the input or the output uses an unsafe keyword, the input is too deep or
    large, a context is not bundled, or pyld fails: for an LD-signed payload each of these means "unsigned".
    """
    unsafe, oversized = _scan(doc)
    if oversized:
        raise ValidationError(f"JSON-LD document deeper than {MAX_DEPTH} levels or over {MAX_NODES} nodes")
    if unsafe:
        raise ValidationError("JSON-LD document uses @graph, @included or @reverse")
    from pyld import jsonld  # noqa: PLC0415 -- see context_documents

    target = COMPACTION_CONTEXT if context is None else context
    try:
        result = jsonld.compact(dict(doc), {"@context": target}, {"documentLoader": _shared_loader()})
    except (jsonld.JsonLdError, RecursionError, TypeError, ValueError, KeyError) as exc:
        raise ValidationError(f"JSON-LD compaction failed: {_reason(exc)}") from None
    if not isinstance(result, dict):
        raise ValidationError("JSON-LD compaction did not produce an object")
    if has_unsafe_keywords(result):
        raise ValidationError("JSON-LD document compacts into @graph, @included or @reverse")
    return result
