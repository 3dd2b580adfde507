#!/usr/bin/env python
"""`mec-marl plot`: see `python scripts/plot.py --help`."""

from baselines.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["plot", *__import__("sys").argv[1:]]))
