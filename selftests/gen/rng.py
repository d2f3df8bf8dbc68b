"""A random source whose draws are the same on every Python 3 version.

Only ``random.Random.getrandbits`` (Mersenne Twister output, stable since
Python 3.2) is used, seeded with an integer derived from a string by SHA-256.
``randrange``/``choice``/``choices`` are avoided: their algorithms are
implementation details that have changed between versions.
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Rng:
    __slots__ = ("_bits",)

    def __init__(self, key: str) -> None:
        seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "little")
        self._bits = random.Random(seed).getrandbits

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)``; ``n`` >= 1."""
        if n <= 1:
            return 0
        k = (n - 1).bit_length()
        while True:
            r = self._bits(k)
            if r < n:
                return r

    def between(self, lo: int, hi: int) -> int:
        """A uniform integer in ``[lo, hi]``."""
        return lo + self.below(hi - lo + 1)

    def percent(self, p: int) -> bool:
        """True with probability ``p`` percent."""
        return self.below(100) < p

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]

    def weighted(self, pairs: Sequence[tuple[T, int]]) -> T:
        """One item of ``(item, integer weight)`` pairs, by weight."""
        total = sum(w for _, w in pairs)
        r = self.below(total)
        for item, w in pairs:
            if r < w:
                return item
            r -= w
        raise AssertionError("unreachable")

    def bits(self, k: int) -> int:
        return self._bits(k) if k > 0 else 0

    def shuffled(self, seq: Sequence[T]) -> list[T]:
        out = list(seq)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out
