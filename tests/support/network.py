"""An httpx transport that routes each test host to its ASGI app, records requests and injects faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from starlette.types import ASGIApp

__all__ = ["Fault", "Network", "RecordedRequest"]


@dataclass
class Fault:
    """Make a host fail: answer `status`, or raise a connection error when status is None."""

    status: int | None = 503
    times: int | None = None          # None: until cleared
    only: Callable[[httpx.Request], bool] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    headers: httpx.Headers
    body: bytes
    status: int | None


@dataclass
class Network(httpx.AsyncBaseTransport):
    """Every request is recorded; requests to unknown hosts fail as a DNS error would."""

    apps: dict[str, ASGIApp] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)

    def add(self, host: str, app: ASGIApp) -> None:
        self.apps[host] = app

    def fail(self, host: str, status: int | None = 503, times: int | None = None,
             only: Callable[[httpx.Request], bool] | None = None) -> None:
        self.faults[host] = Fault(status=status, times=times, only=only)

    def heal(self, host: str) -> None:
        self.faults.pop(host, None)

    def sent_to(self, host: str, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests
            if httpx.URL(r.url).netloc.decode() == host
            and (method is None or r.method == method)
            and (path is None or httpx.URL(r.url).path == path)
        ]

    def _fault(self, host: str, request: httpx.Request) -> Fault | None:
        fault = self.faults.get(host)
        if fault is None or (fault.only is not None and not fault.only(request)):
            return None
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.heal(host)
        return fault

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        host = request.url.netloc.decode()
        fault = self._fault(host, request)
        if fault is not None:
            self.requests.append(RecordedRequest(request.method, str(request.url), request.headers, body,
                                                 fault.status))
            if fault.status is None:
                raise httpx.ConnectError(f"connection to {host} refused (injected)", request=request)
            return httpx.Response(fault.status, request=request, text="injected fault")
        app = self.apps.get(host)
        if app is None:
            self.requests.append(RecordedRequest(request.method, str(request.url), request.headers, body, None))
            raise httpx.ConnectError(f"name {host} does not resolve", request=request)
        transport = httpx.ASGITransport(app=app)
        response = await transport.handle_async_request(request)
        await response.aread()
        self.requests.append(RecordedRequest(request.method, str(request.url), request.headers, body,
                                             response.status_code))
        return response
