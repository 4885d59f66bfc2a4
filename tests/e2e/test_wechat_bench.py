"""The load benchmark itself, small and fast: its numbers must mean what they say."""

from __future__ import annotations

import pytest

from bench.wechat_bench import run, table

pytestmark = pytest.mark.e2e


async def test_quick_desk_is_all_fast_path() -> None:
    result = await run(6, 0.05, 0.0, budget_s=0.8, timeout_s=1.0, seed=1, desk_kind="service")
    assert (result["fast"], result["slow"], result["fast_share"]) == (6, 0, 1.0)
    assert result["desk_calls"] == 6 and result["deliveries"] == 6
    assert result["violations"] == 0 and result["gave_up"] == 0
    assert "fast path" in table(result)


async def test_slow_desk_is_all_pushed_and_timed() -> None:
    result = await run(4, 1.2, 0.0, budget_s=0.8, timeout_s=1.0, seed=1, threads=8)
    assert (result["fast"], result["slow"]) == (0, 4)
    assert 1.2 <= result["slow_e2e_p50_s"] <= result["slow_e2e_max_s"] < 3.0
    assert result["deliveries"] == 4 and result["desk_calls"] == 4
