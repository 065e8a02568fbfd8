"""Start-up time and idle memory (RSS) of `fediverse-learn serve`."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.processes import ServerProcess, free_port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_once(root: Path) -> tuple[float, int]:
    port = free_port()
    home = root / f"s{port}"
    home.mkdir()
    config = home / "config.toml"
    config.write_text(
        f'[instance]\nbase_url = "http://127.0.0.1:{port}"\n[server]\nport = {port}\n'
        '[storage]\ndatabase = "data/db.sqlite3"\nmedia_dir = "data/media"\n'
        "[federation]\nallow_http = true\n"
    )
    server = ServerProcess(root=home, port=port, config=config)
    assert server.cli("init").returncode == 0
    started = time.perf_counter()
    server.start(timeout=30)
    elapsed = time.perf_counter() - started
    for _ in range(20):   # a little traffic, then idle
        httpx.get(f"{server.base}/.well-known/nodeinfo")
    time.sleep(1.0)
    assert server.proc is not None
    rss = _rss_kib(server.proc.pid)
    server.stop()
    return elapsed, rss


def main() -> None:
    runs = 5
    with tempfile.TemporaryDirectory() as tmp:
        results = [measure_once(Path(tmp)) for _ in range(runs)]
    times = [r[0] for r in results]
    rss = [r[1] for r in results]
    print(f"serve start-up (process start to first HTTP 200), {runs} runs: "
          f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"serve idle RSS: median {statistics.median(rss) / 1024:.1f} MiB, max {max(rss) / 1024:.1f} MiB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
