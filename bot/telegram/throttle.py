"""Per-user flood control: a token bucket per sender, as a small pure policy.

Each sender has a bucket of ``capacity`` tokens refilled at ``refill_per_s``. A message takes
one token. When the bucket is empty the first message gets a short "slow down" reply
(:attr:`Verdict.WARN`); later ones are dropped silently (:attr:`Verdict.DROP`) until a token is
back, so a flood never turns into a flood of replies. Other senders have their own buckets and
are never slowed. Time is passed in, so tests need no clock.

The time given is when the message was *sent*, not when it is handled: a backlog (messages that
waited during an outage or a restart) is counted at the pace its sender wrote it, so it does
not trip the limit when it is released all at once. Times may arrive out of order; a bucket
never moves back in time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the sender once
    DROP = "drop"  # still over the limit: say nothing


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` tokens, ``refill_per_s`` new tokens a second, starting full."""

    capacity: float
    refill_per_s: float
    tokens: float = -1.0
    updated: float = 0.0
    warned: bool = False

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, now: float) -> bool:
        """Take one token at time ``now`` (seconds); False when none is left."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_s)
        self.updated = max(self.updated, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FloodGate:
    """Token buckets keyed by sender; keeps at most ``max_senders`` (least recent dropped)."""

    def __init__(self, capacity: float = 5, refill_per_s: float = 0.5, max_senders: int = 10_000):
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("capacity must be >= 1 and refill_per_s > 0")
        self.capacity = capacity
        self.refill_per_s = refill_per_s
        self.max_senders = max_senders
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, sender: str, now: float) -> Verdict:
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = TokenBucket(self.capacity, self.refill_per_s, updated=now)
            self._buckets[sender] = bucket
            if len(self._buckets) > self.max_senders:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(sender)
        if bucket.take(now):
            bucket.warned = False
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN
