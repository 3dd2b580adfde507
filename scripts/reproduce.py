#!/usr/bin/env python
"""`mec-marl reproduce`: see `python scripts/reproduce.py --help`."""

from baselines.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["reproduce", *__import__("sys").argv[1:]]))
