"""A raw HTTP/1.1 server on 127.0.0.1 for the HTTP client tests: records each request as sent, answers per path.

    server.routes["/inbox"] = respond(202)           # a canned answer
    server.routes["/slow"] = server.silent            # reads the request, answers nothing until stop()
    server.seen[0].header("host"), server.connections

Written on asyncio streams, not an HTTP library, so that what a client puts on the wire is seen byte for byte
and answers can be broken on purpose (no Content-Length, bad chunks, endless bodies).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Handler", "RawRequest", "RawServer", "respond"]

Handler = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass(frozen=True)
class RawRequest:
    line: str                        # "POST /path?query HTTP/1.1", as sent
    fields: list[tuple[str, str]]    # the header fields as sent: order, case and repeats kept
    body: bytes

    @property
    def method(self) -> str:
        return self.line.split(" ", 2)[0]

    @property
    def target(self) -> str:
        """The request target as sent, query included, never re-quoted."""
        return self.line.split(" ", 2)[1]

    @property
    def path(self) -> str:
        return self.target.split("?")[0]

    @property
    def headers(self) -> dict[str, str]:
        """Header names lower-cased; of a repeated name, the last value."""
        return {k.lower(): v for k, v in self.fields}

    def header(self, name: str) -> str:
        """The one value of `name` (lower case); fails if it was sent no times or more than once."""
        (value,) = [v for k, v in self.fields if k.lower() == name]
        return value

    def normalised(self) -> tuple[str, list[tuple[str, str]], bytes]:
        """What HTTP gives meaning to: header names without case, order between different names ignored."""
        return self.line, sorted((k.lower(), v) for k, v in self.fields), self.body


def respond(
    status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None, with_length: bool = True,
) -> Handler:
    """An answer, then the connection closed; Content-Length of the body unless `headers` or `with_length` say."""

    async def handler(writer: asyncio.StreamWriter) -> None:
        all_headers = dict(headers or {})
        if with_length:
            all_headers.setdefault("Content-Length", str(len(body)))
        lines = [f"HTTP/1.1 {status} X", "Connection: close", *(f"{k}: {v}" for k, v in all_headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    return handler


@dataclass
class RawServer:
    """Counts connections, records each request, answers from `routes` by path (404 for any other)."""

    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    stop_silence: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.stop_silence.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, path: str, host: str = "social.test") -> str:
        return f"http://{host}:{self.port}{path}"

    async def silent(self, writer: asyncio.StreamWriter) -> None:
        """A handler that answers nothing until the server stops."""
        await self.stop_silence.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            line, *rest = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            fields = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in rest if h)]
            length = next((int(v) for k, v in fields if k.lower() == "content-length"), 0)
            request = RawRequest(line, fields, await reader.readexactly(length))
            self.seen.append(request)
            await self.routes.get(request.path, respond(404))(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)
