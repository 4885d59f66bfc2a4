"""The answer-job registry: one computation per message, exactly one hand-over of the reply."""

from __future__ import annotations

import asyncio

from bot.wechat.jobs import AnswerJob, AnswerJobs
from core.people import Channel, UserRef

USER = UserRef(Channel.WECHAT, "o-user")


class Harness:
    def __init__(self) -> None:
        self.computed = 0
        self.release = asyncio.Event()
        self.handed_over: list[str | None] = []
        self.handover_done = asyncio.Event()
        self.jobs = AnswerJobs(self._unclaimed, keep_s=60)

    async def _unclaimed(self, job: AnswerJob) -> None:
        self.handed_over.append(job.text)
        self.handover_done.set()

    async def compute(self) -> str:
        self.computed += 1
        await self.release.wait()
        return "答案"

    def start(self, key: str = "k") -> AnswerJob:
        job, created = self.jobs.open(key, USER)
        assert created
        self.jobs.start(job, self.compute)
        return job


async def alive() -> bool:
    return True


async def gone() -> bool:
    return False


def claim(text: str) -> str:
    return f"[{text}]"


async def test_ready_in_time_is_claimed_by_the_waiting_delivery() -> None:
    h = Harness()
    job = h.start()
    h.release.set()
    assert await h.jobs.wait(job, 5, alive, claim) == "[答案]"
    assert h.handed_over == []
    assert job.passive == "[答案]"


async def test_every_delivery_waits_on_one_computation() -> None:
    h = Harness()
    job = h.start()
    again, created = h.jobs.open("k", USER)
    assert again is job and not created
    waiters = [asyncio.create_task(h.jobs.wait(job, 5, alive, claim)) for _ in range(3)]
    await asyncio.sleep(0)
    h.release.set()
    results = await asyncio.gather(*waiters)
    assert h.computed == 1
    assert results == ["[答案]"] * 3  # the first claims, the others repeat the same reply
    assert h.handed_over == []


async def test_budget_runs_out_then_the_job_hands_over() -> None:
    h = Harness()
    job = h.start()
    assert await h.jobs.wait(job, 0.01, alive, claim) is None
    assert not job.settled
    h.release.set()
    await asyncio.wait_for(h.handover_done.wait(), 5)
    assert h.handed_over == ["答案"]


async def test_disconnected_delivery_does_not_swallow_the_reply() -> None:
    h = Harness()
    job = h.start()
    h.release.set()
    assert await h.jobs.wait(job, 5, gone, claim) is None
    await asyncio.wait_for(h.handover_done.wait(), 5)
    assert h.handed_over == ["答案"]


async def test_a_live_redelivery_wins_over_a_disconnected_one() -> None:
    h = Harness()
    job = h.start()
    first = asyncio.create_task(h.jobs.wait(job, 5, gone, claim))
    second = asyncio.create_task(h.jobs.wait(job, 5, alive, claim))
    await asyncio.sleep(0)
    h.release.set()
    assert await first is None
    assert await second == "[答案]"
    assert h.handed_over == []


async def test_after_hand_over_a_redelivery_answers_success() -> None:
    h = Harness()
    job = h.start()
    assert await h.jobs.wait(job, 0.01, alive, claim) is None
    h.release.set()
    await asyncio.wait_for(h.handover_done.wait(), 5)
    assert await h.jobs.wait(job, 5, alive, claim) is None
    assert h.handed_over == ["答案"]


async def test_remote_jobs_are_not_kept() -> None:
    h = Harness()
    job, _ = h.jobs.open("r", USER)
    h.jobs.remote(job)
    assert job.remote and job.decided.is_set()
    assert len(h.jobs) == 0


async def test_close_waits_for_running_work() -> None:
    h = Harness()
    job = h.start()
    assert await h.jobs.wait(job, 0.01, alive, claim) is None
    h.release.set()
    await h.jobs.aclose(grace_s=5)
    assert h.handed_over == ["答案"]
