"""Real `fediverse-learn serve` processes on loopback ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "free_port", "start_server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    root: Path
    port: int
    config: Path
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fediverse_learn", "--config", str(self.config), *args],
            capture_output=True, text=True, input=stdin, timeout=60, check=False,
            env={**os.environ, "FEDIVERSE_LEARN_LOG": "WARNING"},
        )

    def start(self, timeout: float = 20.0) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fediverse_learn", "--config", str(self.config), "serve"],
            stdout=out, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/.well-known/nodeinfo", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)   # waiting for a process to listen, not for test logic
        raise RuntimeError(f"server did not start:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout)


def start_server(root: Path, name: str, **federation: object) -> ServerProcess:
    """Write a local config for a new instance in root/name, run `init`, start `serve`."""
    home = root / name
    home.mkdir(parents=True)
    port = free_port()
    extra = "".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in federation.items())
    config = home / "config.toml"
    config.write_text(
        "[instance]\n"
        f'base_url = "http://127.0.0.1:{port}"\nname = "{name}"\nregistrations = "closed"\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n'
        '[storage]\ndatabase = "data/db.sqlite3"\nmedia_dir = "data/media"\n'
        f"[federation]\nallow_http = true\nallow_private_addresses = true\n{extra}"
    )
    server = ServerProcess(root=home, port=port, config=config)
    result = server.cli("init")
    if result.returncode != 0:
        raise RuntimeError(f"init failed: {result.stderr}")
    server.start()
    return server
