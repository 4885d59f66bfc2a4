"""Extractive composition: the most relevant sentences of the best clauses, with sources.

No LLM. For a phone screen: one or two short quoted points (at most ``budget`` characters
before the sources, leads and quote marks included), each introduced by its source (《title》
and article, or 文号), then a numbered source list. Every word around the quotes comes from ``prompts/answer.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import prompts
from core.answers import Citation
from knowledge.scoring import weighted_coverage
from knowledge.text import split_sentences


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage chosen to answer, with what the composer needs to quote and cite it."""

    citation: Citation
    score: float


def source_label(c: Citation, *, short: bool = False) -> str:
    """《title》 followed by the article, or the 文号, or the section — whichever is known."""
    label = prompts.text("answer.doc_card", title=c.title)
    if c.article:
        return _with_status(label + c.article, c, short)
    if c.doc_number and not short:
        label += f"（{c.doc_number}）"
    if c.section and not short:
        label += f" {c.section.split(' > ')[-1]}"
    return _with_status(label, c, short)


def sources_block(citations: Sequence[Citation]) -> str:
    """来源： and one numbered line per source, each named once (a long article stored as
    several passages is one source to the asker)."""
    labels = list(dict.fromkeys(source_label(c) for c in citations))
    lines = [prompts.text("answer.sources_title")]
    for i, label in enumerate(labels, start=1):
        lines.append(prompts.text("answer.source_line", index=i, label=label))
    return "\n".join(lines)


def _with_status(label: str, c: Citation, short: bool) -> str:
    """A source in a list carries its document's status (现行有效, 已被代替, …)."""
    if short or not c.status_label:
        return label
    return label + prompts.text("status.label", status=c.status_label)


def _strip_label(text: str, article: str | None) -> str:
    if article and text.startswith(article):
        return text[len(article) :].lstrip(" 　:：")
    return text


def select_sentences(
    text: str, query_tokens: Sequence[str], idf: Callable[[str], float], budget: int
) -> str:
    """The run of consecutive sentences that best covers the question, within ``budget``.

    The best single sentence (by IDF-weighted coverage, earlier sentences winning ties) is
    extended with the sentences after it, then before it, while they fit the budget; a text
    that fits whole is returned whole.
    """
    if len(text) <= budget:
        return text
    sentences = split_sentences(text)
    if not sentences:
        return text[:budget]
    scores = [weighted_coverage(query_tokens, s.lower(), idf) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    lo, hi = best, best + 1
    length = len(sentences[best])
    while True:
        grown = False
        if hi < len(sentences) and length + len(sentences[hi]) <= budget:
            length += len(sentences[hi])
            hi += 1
            grown = True
        elif lo > 0 and scores[lo - 1] > 0 and length + len(sentences[lo - 1]) <= budget:
            lo -= 1
            length += len(sentences[lo])
            grown = True
        if not grown:
            break
    quote = "".join(sentences[lo:hi])
    if len(quote) > budget:
        quote = quote[: budget - 1] + prompts.text("answer.ellipsis")
    return quote


def compose(
    chosen: Sequence[Candidate],
    sources: Sequence[Citation],
    query_tokens: Sequence[str],
    idf: Callable[[str], float],
    budget: int = 300,
) -> tuple[str, list[Citation]]:
    """The answer text and the citations with their ``quote`` filled.

    ``chosen`` are the passages to quote (best first, usually one or two); ``sources`` are all
    citations to list (the chosen ones first).
    """
    parts: list[str] = []
    quoted: dict[str, str] = {}
    remaining = budget
    for index, cand in enumerate(chosen):
        c = cand.citation
        lead_key = "answer.lead" if index == 0 else "answer.lead_more"
        lead = prompts.text(lead_key, source=source_label(c, short=True))
        newlines = 1 if index == 0 else 2  # lead and quote are joined by line breaks
        remaining -= len(lead) + len(prompts.text("answer.quote", text="")) + newlines
        if index and remaining < 40:
            break  # the budget counts what the asker reads: leads and quote marks too
        share = remaining if index == len(chosen) - 1 else max(120, int(remaining * 0.65))
        body = _strip_label(c.text, c.article)
        quote = select_sentences(body, query_tokens, idf, share)
        remaining -= len(quote)
        quoted[c.chunk_id] = quote
        parts.append(lead)
        parts.append(prompts.text("answer.quote", text=quote))
        if remaining < 40:
            break
    cited = [replace(c, quote=quoted.get(c.chunk_id, "")) for c in sources]
    return "\n".join(parts) + "\n\n" + sources_block(cited), cited


def compose_expert(answer: str, sources: Sequence[str]) -> str:
    """An approved expert FAQ answer, labelled as such, with the documents it relied on."""
    text = prompts.text("answer.expert_lead") + "\n" + answer.strip()
    if sources:
        names = "、".join(prompts.text("answer.doc_card", title=s) for s in sources)
        text += "\n\n" + prompts.text("answer.expert_basis", sources=names)
    return text


def compose_escalation(reason: str) -> str:
    """Why the desk does not answer itself, in one sentence: the reason only (the desk says
    what happens next, opens the ticket and lists the sources that may help)."""
    return prompts.text(f"answer.escalate_{reason or 'low_confidence'}")
