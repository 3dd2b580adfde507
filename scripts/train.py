#!/usr/bin/env python
"""`mec-marl train`: see `python scripts/train.py --help`."""

from baselines.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *__import__("sys").argv[1:]]))
