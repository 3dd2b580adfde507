"""The one evaluation-seed rule, shared by train, evaluate and reproduce.

Training seed ``s`` (``0 <= s < 2**32``) seeds the learner and its training
instances (``env.reset(seed=s)`` and the streams that follow). Evaluation
episode ``i`` of seed ``s`` resets the env with

    EVAL_SEED_BASE + s * EVAL_STRIDE + i,    EVAL_SEED_BASE = 2**40, EVAL_STRIDE = 2**20

Every evaluation seed is >= 2**40, so none equals a training seed; seeds
``s != s'`` get disjoint evaluation seeds (at most ``EVAL_STRIDE`` episodes
each); and every method evaluated under seed ``s`` sees the same instances.
"""

from __future__ import annotations

MAX_TRAIN_SEED = 2**32 - 1
EVAL_SEED_BASE = 2**40
EVAL_STRIDE = 2**20


def check_train_seed(seed: int) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_TRAIN_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return seed


def eval_seeds(seed: int, episodes: int) -> list[int]:
    """Reset seeds of the ``episodes`` evaluation instances of training seed ``seed``."""
    check_train_seed(seed)
    if not 1 <= episodes <= EVAL_STRIDE:
        raise ValueError(f"evaluation episodes must be in [1, {EVAL_STRIDE}], got {episodes}")
    start = EVAL_SEED_BASE + seed * EVAL_STRIDE
    return list(range(start, start + episodes))
