"""Imports only go down: edges -> inbox -> outbox -> core (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDGE_MODULES = ("fediverse_learn.app", "fediverse_learn.cli", "fediverse_learn.cli_accounts",
                "fediverse_learn.cli_community", "fediverse_learn.cli_moderation", "fediverse_learn.moderation",
                "fediverse_learn.server",
                "fediverse_learn.web", "fediverse_learn.api", "fediverse_learn.__main__")


def _floor(module: str) -> int:
    if any(module == edge or module.startswith(edge + ".") for edge in EDGE_MODULES):
        return 4
    if module.split(".", maxsplit=1)[0] == "inbox":
        return 3
    if module.split(".", maxsplit=1)[0] == "outbox":
        return 2
    return 1


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return [m for m in found if m.split(".")[0] in ("fediverse_learn", "inbox", "outbox")]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_imports_only_go_down() -> None:
    violations = []
    for package in ("fediverse_learn", "inbox", "outbox"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _module_name(path)
            for imported in _imports(path):
                if _floor(imported) > _floor(module):
                    violations.append(f"{module} (floor {_floor(module)}) imports {imported}")
    assert violations == []


def test_layering_check_can_fail() -> None:
    assert _floor("fediverse_learn.web.notes") > _floor("fediverse_learn.resolver")
    assert _floor("fediverse_learn.webfinger") == 1
    assert _floor("inbox.worker") > _floor("outbox.publish") > _floor("fediverse_learn.store.db")
