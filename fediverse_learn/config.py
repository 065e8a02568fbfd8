"""The TOML configuration: loading, validation and the typed settings the rest of the code reads."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fediverse_learn.errors import ConfigError

__all__ = [
    "Config",
    "FederationConfig",
    "InstanceConfig",
    "OAuthConfig",
    "ServerConfig",
    "StorageConfig",
    "load_config",
    "parse_config",
]

REGISTRATIONS = ("closed", "invite", "approval", "open")
DEFAULT_VISIBILITIES = ("public", "unlisted", "private")
REPLY_POLICIES = ("anyone", "followers", "mentioned")
DM_POLICIES = ("anyone", "followed", "none")
FEDERATION_MODES = ("blocklist", "allowlist")


@dataclass(frozen=True)
class InstanceConfig:
    domain: str = ""
    base_url: str = ""
    name: str = "Learning Commons"
    description: str = ""
    registrations: str = "invite"
    default_visibility: str = "public"
    members_discoverable: bool = False
    reply_policy: str = "anyone"
    remote_direct_messages: str = "anyone"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class StorageConfig:
    database: str = "data/fediverse-learn.sqlite3"
    media_dir: str = "data/media"


@dataclass(frozen=True)
class FederationConfig:
    mode: str = "blocklist"
    allow_private_addresses: bool = False
    allow_http: bool = False
    max_body_bytes: int = 1_048_576
    fetch_timeout: float = 30.0
    delivery_concurrency_per_host: int = 4
    delivery_concurrency: int = 64
    delivery_max_attempts: int = 17
    signature_max_skew: int = 3600


@dataclass(frozen=True)
class OAuthConfig:
    password_grant: bool = False


@dataclass(frozen=True)
class Config:
    instance: InstanceConfig
    server: ServerConfig = field(default_factory=ServerConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    oauth: OAuthConfig = field(default_factory=OAuthConfig)
    source: str = "<memory>"

    @property
    def database_path(self) -> Path:
        return self._relative(self.storage.database)

    @property
    def media_path(self) -> Path:
        return self._relative(self.storage.media_dir)

    def _relative(self, p: str) -> Path:
        path = Path(p)
        if path.is_absolute() or self.source.startswith("<"):
            return path
        return Path(self.source).resolve().parent / path


SECTIONS: dict[str, type[Any]] = {
    "instance": InstanceConfig,
    "server": ServerConfig,
    "storage": StorageConfig,
    "federation": FederationConfig,
    "oauth": OAuthConfig,
}


def _check_type(value: Any, expected: type[Any]) -> bool:
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _section(source: str, name: str, raw: Any, cls: type[Any]) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: [{name}]: must be a table")
    types = {f.name: {"str": str, "int": int, "float": float, "bool": bool}[str(f.type)] for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in types:
            raise ConfigError(f"{source}: [{name}] {key}: unknown key")
        if not _check_type(value, types[key]):
            raise ConfigError(f"{source}: [{name}] {key}: expected {types[key].__name__}, got {value!r}")
        values[key] = float(value) if types[key] is float else value
    return cls(**values)


def _fail(source: str, section: str, key: str, reason: str) -> ConfigError:
    return ConfigError(f"{source}: [{section}] {key}: {reason}")


def _validate(cfg: Config) -> Config:
    src = cfg.source
    inst = cfg.instance
    if not inst.base_url:
        raise _fail(src, "instance", "base_url", "is required")
    parts = urlsplit(inst.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(src, "instance", "base_url", f"not an http(s) URL: {inst.base_url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise _fail(src, "instance", "base_url", "must be scheme://host[:port] with no path")
    if parts.scheme == "http" and not cfg.federation.allow_http:
        raise _fail(src, "instance", "base_url", "http needs [federation] allow_http = true")
    authority = parts.netloc.lower()
    domain = (inst.domain or authority).lower()
    if domain != authority:
        raise _fail(src, "instance", "domain", f"{domain!r} does not match base_url host {authority!r}")
    checks: list[tuple[str, str, Callable[[], bool], str]] = [
        ("instance", "registrations", lambda: inst.registrations in REGISTRATIONS,
         f"must be one of {', '.join(REGISTRATIONS)}"),
        ("instance", "default_visibility", lambda: inst.default_visibility in DEFAULT_VISIBILITIES,
         f"must be one of {', '.join(DEFAULT_VISIBILITIES)}"),
        ("instance", "reply_policy", lambda: inst.reply_policy in REPLY_POLICIES,
         f"must be one of {', '.join(REPLY_POLICIES)}"),
        ("instance", "remote_direct_messages", lambda: inst.remote_direct_messages in DM_POLICIES,
         f"must be one of {', '.join(DM_POLICIES)}"),
        ("federation", "mode", lambda: cfg.federation.mode in FEDERATION_MODES,
         f"must be one of {', '.join(FEDERATION_MODES)}"),
        ("server", "port", lambda: 0 <= cfg.server.port <= 65535, "must be 0..65535"),
        ("federation", "max_body_bytes", lambda: cfg.federation.max_body_bytes >= 1024, "must be >= 1024"),
        ("federation", "fetch_timeout", lambda: cfg.federation.fetch_timeout > 0, "must be > 0"),
        ("federation", "delivery_concurrency_per_host",
         lambda: cfg.federation.delivery_concurrency_per_host >= 1, "must be >= 1"),
        ("federation", "delivery_concurrency", lambda: cfg.federation.delivery_concurrency >= 1, "must be >= 1"),
        ("federation", "delivery_max_attempts", lambda: cfg.federation.delivery_max_attempts >= 1, "must be >= 1"),
        ("federation", "signature_max_skew", lambda: cfg.federation.signature_max_skew >= 60, "must be >= 60"),
    ]
    for section, key, ok, reason in checks:
        if not ok():
            raise _fail(src, section, key, reason)
    base_url = f"{parts.scheme}://{authority}"
    return Config(
        instance=replace(inst, domain=domain, base_url=base_url),
        server=cfg.server, storage=cfg.storage, federation=cfg.federation, oauth=cfg.oauth, source=src,
    )


def parse_config(data: Mapping[str, Any], source: str = "<memory>") -> Config:
    """Validate a parsed TOML mapping; raise ConfigError naming the source, key and reason."""
    sections: dict[str, Any] = {}
    for name, raw in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"{source}: [{name}]: unknown section")
        sections[name] = _section(source, name, raw, SECTIONS[name])
    if "instance" not in sections:
        raise ConfigError(f"{source}: [instance]: section is required")
    return _validate(Config(source=source, **sections))


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML configuration file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: file not found (copy config.example.toml)") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_config(data, str(p))
