"""Bounded process-wide caches of pure answers.

Programs repeat their instructions, constants and helpers, so some answers that depend only on
them (an instruction's text, a constant register, a helper's prototype, a register's text) are
kept across verifications. Each cache is bounded: a full one, which a program of random
immediates can make, starts again.
"""
from __future__ import annotations

from typing import Any


def keep(cache: dict, key: Any, value: Any, limit: int) -> Any:
    """Store ``value`` under ``key`` and return it; a cache of ``limit`` entries is emptied first."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value
