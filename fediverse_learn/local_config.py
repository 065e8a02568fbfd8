"""Writing a first config.toml from config.example.toml (what `make run` does on a fresh clone)."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from fediverse_learn.config import parse_config
from fediverse_learn.errors import ConfigError

__all__ = ["local_settings", "write_local_config"]


def local_settings(example: str, port: int) -> str:
    """The example config with local-trial settings: http on 127.0.0.1:PORT, data in ./data."""
    authority = f"127.0.0.1:{port}"
    replacements = {
        ("instance", "domain"): f'"{authority}"',
        ("instance", "base_url"): f'"http://{authority}"',
        ("instance", "registrations"): '"closed"',
        ("server", "host"): '"127.0.0.1"',
        ("server", "port"): str(port),
        ("storage", "database"): '"data/fediverse-learn.sqlite3"',
        ("storage", "media_dir"): '"data/media"',
        ("federation", "allow_http"): "true",
        ("federation", "allow_private_addresses"): "true",
    }
    out: list[str] = []
    section = ""
    for line in example.splitlines():
        header = re.fullmatch(r"\[([a-z_]+)\]\s*", line)
        if header:
            section = header.group(1)
        key = re.match(r"([a-z_]+)\s*=", line)
        if key and (section, key.group(1)) in replacements:
            out.append(f"{key.group(1)} = {replacements[(section, key.group(1))]}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _find_example(target: Path) -> Path:
    for candidate in (target.parent / "config.example.toml",
                      Path(__file__).resolve().parent.parent / "config.example.toml"):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{target}: config.example.toml not found next to it")


def write_local_config(target: Path, *, local: bool, port: int = 8080) -> int:
    """Write `target` from the example if it does not exist yet; never overwrite."""
    if target.exists():
        sys.stdout.write(f"{target} exists; leaving it as it is\n")
        return 0
    example = _find_example(target).read_text(encoding="utf-8")
    text = local_settings(example, port) if local else example
    parse_config(tomllib.loads(text), str(target))   # never write a config we would refuse
    target.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {target}" + (f" (local settings, http://127.0.0.1:{port})" if local else "") + "\n")
    return 0
