"""`fediverse-learn serve`: uvicorn over the app, workers in the same process, graceful on SIGTERM/SIGINT."""

from __future__ import annotations

import logging

import uvicorn

from fediverse_learn.app import build_services, create_app
from fediverse_learn.config import Config

__all__ = ["serve"]

log = logging.getLogger(__name__)


async def serve(config: Config) -> None:
    services = await build_services(config)
    app = create_app(services, close_services=True, run_workers=True)
    server = uvicorn.Server(uvicorn.Config(
        app, host=config.server.host, port=config.server.port, lifespan="on", log_level="info",
        proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False, access_log=False,
    ))
    await server.serve()
    log.info("stopped")
