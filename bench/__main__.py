"""Run every benchmark and print its figures: `python -m bench` (all), or `python -m bench inbox fanout`."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import fanout, inbox, startup, timeline

BENCHMARKS: dict[str, Callable[[], None]] = {
    "startup": startup.main,
    "inbox": lambda: inbox.main([]),
    "fanout": lambda: fanout.main([]),
    "timeline": lambda: timeline.main([]),
}


def main(argv: list[str] | None = None) -> int:
    names = (sys.argv[1:] if argv is None else argv) or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names:
        BENCHMARKS[name]()
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
