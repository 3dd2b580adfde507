#!/usr/bin/env python
"""`mec-marl evaluate`: see `python scripts/evaluate.py --help`."""

from baselines.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["evaluate", *__import__("sys").argv[1:]]))
