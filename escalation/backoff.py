"""When to try a failed delivery again (a pure function)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff, capped, with deterministic jitter.

    ``base`` seconds after the first failure, doubling (``factor``) after each further one, never
    more than ``cap``; ``jitter`` spreads retries of many notifications by up to that fraction.
    """

    base: float = 5.0
    factor: float = 2.0
    cap: float = 600.0
    jitter: float = 0.2

    def delay(self, attempts: int, key: str = "") -> float:
        """Seconds to wait after ``attempts`` failed attempts (1 = the first failure).

        ``min(cap, base · factor^(attempts-1))``, then reduced by a fraction in
        ``[0, jitter)`` derived from ``key`` and ``attempts`` (a hash, so the same inputs always
        give the same delay and different notifications do not retry in lockstep).
        """
        if attempts < 1:
            return 0.0
        exponent = min(attempts - 1, 64)  # beyond this the cap has long been reached
        raw = min(self.cap, self.base * self.factor**exponent)
        return raw * (1.0 - self.jitter * _unit_fraction(f"{key}:{attempts}"))


def _unit_fraction(seed: str) -> float:
    """A number in [0, 1) determined by ``seed``."""
    digest = hashlib.blake2b(seed.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
