"""Service statistics as an admin reads them: a Chinese text report, or CSV rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import prompts
from core.people import Domain
from desk import texts
from desk.api import Stats

FIGURES = (
    "askers",
    "questions",
    "answered_by_desk",
    "clarified",
    "escalated",
    "answered_by_experts",
    "claim_p50_s",
    "claim_p90_s",
    "answer_p50_s",
    "answer_p90_s",
    "helpful",
    "not_helpful",
    "helpful_ratio",
)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def period(stats: Stats) -> str:
    if stats.since and stats.until:
        return prompts.text(
            "desk.stats.period_between", since=_day(stats.since), until=_day(stats.until)
        )
    if stats.since:
        return prompts.text("desk.stats.period_since", since=_day(stats.since))
    if stats.until:
        return prompts.text("desk.stats.period_until", until=_day(stats.until))
    return prompts.text("desk.stats.period_all")


def ratio(value: float | None) -> str:
    """A share as a percentage with one decimal (``—`` when there is nothing to divide)."""
    return prompts.text("desk.duration.none") if value is None else f"{value * 100:.1f}%"


def text_report(stats: Stats) -> str:
    """Every figure on its own line, then the backlog by domain and the frequent topics."""
    pair = "desk.stats.pair"
    rows = [
        ("askers", str(stats.askers)),
        ("questions", str(stats.questions)),
        ("answered_by_desk", str(stats.answered_by_desk)),
        ("clarified", str(stats.clarified)),
        ("escalated", str(stats.escalated)),
        ("answered_by_experts", str(stats.answered_by_experts)),
        (
            "claim_time",
            prompts.text(
                pair,
                first=texts.duration(stats.claim_p50_s),
                second=texts.duration(stats.claim_p90_s),
            ),
        ),
        (
            "answer_time",
            prompts.text(
                pair,
                first=texts.duration(stats.answer_p50_s),
                second=texts.duration(stats.answer_p90_s),
            ),
        ),
        ("helpful", str(stats.helpful)),
        ("not_helpful", str(stats.not_helpful)),
        ("helpful_ratio", ratio(stats.helpful_ratio)),
    ]
    lines = [prompts.text("desk.stats.title", period=period(stats))]
    lines += [f"{prompts.text(f'desk.stats.{key}')}：{value}" for key, value in rows]
    lines.append(prompts.text("desk.stats.backlog_title"))
    for domain in Domain:
        count = stats.backlog_by_domain.get(domain.value, 0)
        lines.append(
            prompts.text("desk.stats.backlog_line", domain=texts.domain_label(domain), count=count)
        )
    lines += _composers(stats)
    lines.append(prompts.text("desk.stats.topics_title"))
    if not stats.top_unanswered:
        lines.append(prompts.text("desk.stats.no_topics"))
    for question, count in stats.top_unanswered:
        lines.append(prompts.text("desk.stats.topic_line", count=count, question=question))
    return "\n".join(lines)


def _composers(stats: Stats) -> list[str]:
    """Which composer wrote the desk's answers and why the LLM's were not used (only once an
    LLM composer has been at work)."""
    if not (set(stats.composed_by) - {"extractive"} or stats.composer_fallbacks):
        return []
    lines = [prompts.text("desk.stats.composer_title")]
    for name in ("extractive", "llm"):
        count = stats.composed_by.get(name, 0)
        lines.append(prompts.text(f"desk.stats.composer_{name}", count=count))
    fallen = sum(stats.composer_fallbacks.values())
    lines.append(prompts.text("desk.stats.fallback_title", count=fallen))
    for reason, count in sorted(stats.composer_fallbacks.items(), key=lambda kv: -kv[1]):
        label = prompts.catalog().get(f"desk.stats.fallback_reason.{reason}", reason)
        lines.append(prompts.text("desk.stats.fallback_line", reason=label, count=count))
    return lines


def csv_rows(stats: Stats) -> list[tuple[str, str, str]]:
    """``(section, key, value)``: figures (seconds and ratios unrounded), backlog, topics."""
    rows: list[tuple[str, str, str]] = [
        ("period", "since", stats.since.isoformat() if stats.since else ""),
        ("period", "until", stats.until.isoformat() if stats.until else ""),
    ]
    for key in FIGURES:
        value = getattr(stats, key)
        rows.append(("figure", key, "" if value is None else str(value)))
    for domain in Domain:
        rows.append(("backlog", domain.value, str(stats.backlog_by_domain.get(domain.value, 0))))
    for question, count in stats.top_unanswered:
        rows.append(("unanswered", question, str(count)))
    for name, count in sorted(stats.composed_by.items()):
        rows.append(("composer", name, str(count)))
    for reason, count in sorted(stats.composer_fallbacks.items()):
        rows.append(("composer_fallback", reason, str(count)))
    return rows


def csv_report(stats: Stats) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    writer.writerows(csv_rows(stats))
    return buffer.getvalue()
