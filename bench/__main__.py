"""Run every benchmark and print its figures."""

from __future__ import annotations

import sys

from bench import startup


def main() -> int:
    startup.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
