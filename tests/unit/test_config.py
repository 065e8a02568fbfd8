"""Configuration: every key documented, bad values refused with file, key and reason."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from fediverse_learn.config import SECTIONS, load_config, parse_config
from fediverse_learn.errors import ConfigError
from fediverse_learn.local_config import local_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def _base() -> dict[str, dict[str, object]]:
    return {"instance": {"base_url": "https://learn.school.example"}}


def test_example_config_documents_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    text = EXAMPLE.read_text()
    for section, cls in SECTIONS.items():
        assert section in data, f"[{section}] missing from config.example.toml"
        for f in fields(cls):
            assert f.name in data[section], f"[{section}] {f.name} missing from config.example.toml"
            # each key is preceded by a comment line explaining it
            assert re.search(rf"#[^\n]*\n(#[^\n]*\n)*{f.name} =", text), f"{f.name} has no comment"


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.instance.domain == "learn.school.example"
    assert config.federation.mode == "blocklist"
    assert config.federation.allow_http is False
    assert config.federation.allow_private_addresses is False


def test_local_settings_are_valid_and_local() -> None:
    text = local_settings(EXAMPLE.read_text(), 8080)
    config = parse_config(tomllib.loads(text))
    assert config.instance.base_url == "http://127.0.0.1:8080"
    assert config.instance.domain == "127.0.0.1:8080"
    assert config.federation.allow_http is True


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"instance": {"base_url": "https://x.example", "colour": "red"}}, "[instance] colour: unknown key"),
        ({"instance": {"base_url": "https://x.example"}, "server": {"port": "80"}}, "[server] port: expected int"),
        ({"instance": {"base_url": "ftp://x.example"}}, "[instance] base_url: not an http(s) URL"),
        ({"instance": {"base_url": "http://x.example"}}, "[instance] base_url: http needs"),
        ({"instance": {"base_url": "https://x.example/path"}}, "[instance] base_url: must be scheme://host"),
        ({"instance": {"base_url": "https://x.example", "domain": "y.example"}}, "[instance] domain:"),
        ({"instance": {"base_url": "https://x.example", "registrations": "sometimes"}},
         "[instance] registrations: must be one of"),
        ({"instance": {"base_url": "https://x.example"}, "federation": {"mode": "open"}},
         "[federation] mode: must be one of"),
        ({"instance": {"base_url": "https://x.example"}, "federation": {"allow_http": 1}},
         "[federation] allow_http: expected bool"),
        ({"instance": {"base_url": "https://x.example"}, "mystery": {}}, "[mystery]: unknown section"),
        ({}, "[instance]: section is required"),
    ],
)
def test_bad_config_is_refused_with_key_and_reason(patch: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(patch, "conf.toml")
    assert str(err.value).startswith("conf.toml: ")
    assert message in str(err.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[instance\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(p)


def test_relative_paths_resolve_next_to_the_config_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[instance]\nbase_url = "https://x.example"\n[storage]\ndatabase = "d/db.sqlite3"\n')
    assert load_config(p).database_path == tmp_path / "d" / "db.sqlite3"
    assert _base()
