"""Flood control: a token bucket per sender, tested with an explicit clock."""

from __future__ import annotations

import pytest

from bot.telegram.throttle import FloodGate, TokenBucket, Verdict


def test_bucket_allows_a_burst_then_refills_at_its_rate():
    bucket = TokenBucket(capacity=3, refill_per_s=0.5)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(1.0) is False  # half a token back
    assert bucket.take(2.0) is True  # one token back after 2 s
    assert bucket.take(2.0) is False


def test_bucket_never_holds_more_than_capacity():
    bucket = TokenBucket(capacity=2, refill_per_s=10)
    bucket.take(0.0)
    assert [bucket.take(100.0) for _ in range(3)] == [True, True, False]


def test_gate_warns_once_then_drops_until_a_token_is_back():
    gate = FloodGate(capacity=2, refill_per_s=1)
    verdicts = [gate.check("u1", 0.0) for _ in range(5)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert gate.check("u1", 1.0) is Verdict.ALLOW
    assert gate.check("u1", 1.0) is Verdict.WARN  # a new flood gets a new warning


def test_one_sender_flooding_does_not_slow_another():
    gate = FloodGate(capacity=2, refill_per_s=0.1)
    for _ in range(50):
        gate.check("flooder", 0.0)
    assert gate.check("flooder", 0.0) is Verdict.DROP
    assert [gate.check("other", 0.0) for _ in range(2)] == [Verdict.ALLOW, Verdict.ALLOW]


def test_gate_forgets_least_recent_senders_beyond_its_size():
    gate = FloodGate(capacity=1, refill_per_s=0.001, max_senders=2)
    gate.check("a", 0.0)
    gate.check("b", 0.0)
    gate.check("c", 0.0)  # "a" is forgotten and starts full again
    assert gate.check("a", 0.0) is Verdict.ALLOW
    assert gate.check("c", 0.0) is Verdict.WARN


def test_a_backlog_is_counted_at_the_pace_it_was_sent_whenever_it_is_handled():
    gate = FloodGate(capacity=2, refill_per_s=0.1)
    sent = [0.0, 10.0, 20.0, 30.0, 40.0]  # one message every ten seconds, handled all at once
    assert [gate.check("u1", t) for t in sent] == [Verdict.ALLOW] * 5
    assert [gate.check("u2", 0.0) for _ in range(3)][-1] is Verdict.WARN  # a real flood still is


def test_a_bucket_does_not_move_back_in_time():
    bucket = TokenBucket(capacity=1, refill_per_s=0.1)
    assert bucket.take(100.0) is True
    assert bucket.take(90.0) is False  # an older message handled later earns nothing
    assert bucket.take(105.0) is False  # half a token since 100
    assert bucket.take(110.0) is True


@pytest.mark.parametrize(("capacity", "rate"), [(0, 1), (1, 0), (0.5, 1)])
def test_gate_refuses_nonsense_settings(capacity: float, rate: float):
    with pytest.raises(ValueError):
        FloodGate(capacity, rate)
