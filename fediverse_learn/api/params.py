"""Request parameters as Mastodon clients send them: query string, form (urlencoded or multipart) or JSON,
with Rails' `name[]` arrays and boolean spellings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from fediverse_learn.api.errors import ApiError, unprocessable

__all__ = ["MAX_FORM_BYTES", "Params", "read_params"]

MAX_FORM_BYTES = 256 * 1024
_FALSE = {"0", "f", "false", "off", "no", ""}


@dataclass
class Params:
    """Parameters by name; a name may carry several values (`id[]=1&id[]=2`)."""

    values: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        key = name[:-2] if name.endswith("[]") else name
        if isinstance(value, list):
            self.values.setdefault(key, []).extend(value)
        else:
            self.values.setdefault(key, []).append(value)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str, default: str | None = None) -> str | None:
        items = self.values.get(name)
        if not items:
            return default
        value = items[0]
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        raise unprocessable(f"{name} must be a string")

    def texts(self, name: str) -> list[str]:
        return [str(v) for v in self.values.get(name, []) if isinstance(v, str | int) and not isinstance(v, bool)]

    def flag(self, name: str, default: bool = False) -> bool:
        items = self.values.get(name)
        if not items:
            return default
        value = items[0]
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() not in _FALSE

    def number(self, name: str) -> int | None:
        text = self.text(name)
        if text is None or text == "":
            return None
        try:
            return int(text)
        except ValueError:
            raise unprocessable(f"{name} must be a number") from None


def _from_mapping(params: Params, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        params.add(key, value)


async def _read_multipart(request: Request, params: Params) -> None:
    """Text fields of a multipart form (files are not accepted); needs python-multipart."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise ApiError(413, "Request body too large")
    try:
        async with request.form(max_files=0, max_fields=1000) as form:
            for key, item in form.multi_items():
                if isinstance(item, str):
                    params.add(key, item)
    except AssertionError:   # starlette without python-multipart
        raise ApiError(415, "multipart/form-data is not supported here; send a form or JSON") from None
    except MultiPartException as exc:
        raise ApiError(400, str(exc.message)) from None


async def read_params(request: Request, *, body: bool = True) -> Params:
    """The query parameters, then (unless `body` is False) the body's: JSON, urlencoded or multipart form."""
    params = Params()
    for key, value in request.query_params.multi_items():
        params.add(key, value)
    if not body or request.method in ("GET", "HEAD"):
        return params
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        await _read_multipart(request, params)
        return params
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ApiError(413, "Request body too large")
    if kind == "application/json" and raw.strip():
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError(400, "The body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "The body must be a JSON object")
        _from_mapping(params, data)
    elif raw:
        for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            params.add(key, value)
    return params
