"""What the answer says about whether its sources are in force, and which source it rests on.

Pure functions over the ranked passages and the library's documents (``core.document_status``
derives each status from the document's dates and links on the day asked):

- ``prefer_in_force`` puts first a passage of a document in force when the best one is from an
  outdated document, or one from a document that prevails (higher-ranking or newer) when the
  best is close to it; the decision is taken before, on the ranking as fitted.
- ``note_for`` is the one line said above an answer quoting a document that is not in force, or
  that a newer or higher-ranking document in the same answer's sources prevails over.
- ``successor_held``: whether the library holds what replaced a document (if not, a question
  resting on it goes to an expert).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import prompts
from core.answers import Citation
from core.document_status import (
    OUTDATED,
    DocumentStatus,
    authority,
    precedence_key,
    prevails,
    status_of,
)
from core.documents import SourceDocument
from knowledge.index_records import chinese_date
from knowledge.references import short_title
from knowledge.retrieval import Scored

PREFER_MARGIN = 0.5  # a prevailing document's passage this close to the best is quoted instead
IN_FORCE_MARGIN = 1.5  # an in-force passage this close replaces the best from an outdated one
LOOK_AT = 5  # how many of the ranked passages are compared


def describe(doc: SourceDocument, today: date, library: Sequence[SourceDocument] = ()) -> str:
    """The status in words: 现行有效, 尚未生效，自2027年1月1日起施行, 已被《…》代替, …"""
    status = status_of(doc, today)
    if status is DocumentStatus.PENDING:
        return prompts.text("status.pending", date=chinese_date(doc.date_effective))
    if status is DocumentStatus.REPEALED:
        return prompts.text("status.repealed_on", date=chinese_date(doc.date_repealed))
    if status is DocumentStatus.EXPIRED:
        return prompts.text("status.expired_on", date=chinese_date(doc.date_until))
    if status is DocumentStatus.SUPERSEDED:
        names = [_reference_name(ref, library) for ref in doc.superseded_by]
        return prompts.text("status.superseded_by", successor="、".join(names))
    if doc.status_note:
        return prompts.text("status.in_force_with_note", note=doc.status_note)
    return prompts.text("status.in_force")


def label_citations(
    citations: Sequence[Citation],
    docs: Mapping[str, SourceDocument],
    today: date,
) -> list[Citation]:
    """The citations with the status of their documents filled (FAQ entries left as they are)."""
    by_file = {d.file_name: d for d in docs.values()}
    library = list(docs.values())
    out: list[Citation] = []
    for c in citations:
        doc = by_file.get(c.document)
        if doc is None or not authority(doc.kind):  # news and FAQ entries have no status
            out.append(c)
            continue
        out.append(
            replace(
                c, status=status_of(doc, today).value, status_label=describe(doc, today, library)
            )
        )
    return out


def prefer_in_force(
    ranked: Sequence[Scored], docs: Mapping[str, SourceDocument], today: date
) -> list[Scored]:
    """``ranked`` with the passage to quote first: the best one, unless it is from an outdated
    document and an in-force passage is within ``IN_FORCE_MARGIN``, or a document prevailing
    over it has a passage within ``PREFER_MARGIN``."""
    if len(ranked) < 2:
        return list(ranked)
    best = ranked[0]
    best_doc = docs.get(_doc_id(best))
    if best_doc is None:
        return list(ranked)
    outdated = status_of(best_doc, today) in OUTDATED
    for index, cand in enumerate(ranked[1:LOOK_AT], start=1):
        doc = docs.get(_doc_id(cand))
        if doc is None or doc.doc_id == best_doc.doc_id:
            continue
        if status_of(doc, today) is not DocumentStatus.IN_FORCE:
            continue
        gap = best.score - cand.score
        better = outdated and gap <= IN_FORCE_MARGIN
        better = better or (gap <= PREFER_MARGIN and _prevails_on_point(doc, best_doc))
        if better:
            return [cand, *ranked[:index], *ranked[index + 1 :]]
    return list(ranked)


def note_for(
    quoted: Citation, sources: Sequence[Citation], docs: Mapping[str, SourceDocument], today: date
) -> str | None:
    """The line above an answer whose first quote is from ``quoted``: a newer or higher-ranking
    document among ``sources`` prevails over it, or it is not in force (yet, or any more)."""
    by_file = {d.file_name: d for d in docs.values()}
    doc = by_file.get(quoted.document)
    if doc is None:
        return None
    status = status_of(doc, today)
    if status is DocumentStatus.PENDING:
        return prompts.text(
            "status.pending_note", title=short_title(doc.title), status=describe(doc, today)
        )
    if status in OUTDATED:
        return prompts.text(
            "status.outdated_note",
            title=short_title(doc.title),
            status=describe(doc, today, list(docs.values())),
        )
    for other in sources:
        newer = by_file.get(other.document)
        if newer is None or newer.doc_id == doc.doc_id:
            continue
        if status_of(newer, today) is DocumentStatus.IN_FORCE and _prevails_on_point(newer, doc):
            return prompts.text(
                "status.older_prevails",
                older=short_title(doc.title),
                older_year=_year(doc),
                newer=short_title(newer.title),
                newer_year=_year(newer),
            )
    if doc.status_note:
        return prompts.text("status.noted", title=short_title(doc.title), note=doc.status_note)
    return None


def successor_held(doc: SourceDocument, library: Sequence[SourceDocument], today: date) -> bool:
    """Whether a document in force in ``library`` replaces ``doc`` (named in its
    ``superseded_by``, or naming it in its own ``supersedes``)."""
    for other in library:
        if other.doc_id == doc.doc_id or status_of(other, today) is not DocumentStatus.IN_FORCE:
            continue
        if _refers_to(doc.superseded_by, other) or _refers_to(other.supersedes, doc):
            return True
    return False


def name_outdated(
    text: str, doc: SourceDocument, library: Sequence[SourceDocument], today: date
) -> str:
    """An escalation's opening line for an outdated best source, naming the document."""
    line = prompts.text(
        "status.escalate_outdated",
        title=short_title(doc.title),
        status=describe(doc, today, library),
    )
    return text.replace(prompts.text("answer.escalate_outdated"), line, 1)


def needs_successor(doc: SourceDocument, today: date) -> bool:
    """Repealed or superseded: a question resting on it needs what replaced it."""
    return status_of(doc, today) in (DocumentStatus.REPEALED, DocumentStatus.SUPERSEDED)


def _prevails_on_point(newer: SourceDocument, older: SourceDocument) -> bool:
    """``newer`` prevails over ``older`` and they govern the same matter: one names the other
    (标准化法 and 标准化法实施条例), or one replaces the other."""
    if not prevails(precedence_key(newer), precedence_key(older)):
        return False
    a, b = _base(newer.title), _base(older.title)
    related = bool(a and b) and (a in b or b in a)
    return related or _refers_to(newer.supersedes, older) or _refers_to(older.superseded_by, newer)


def _base(title: str) -> str:
    return short_title(title).removeprefix("中华人民共和国")


def _refers_to(references: Sequence[str], doc: SourceDocument) -> bool:
    names = {doc.file_name, doc.doc_id, doc.doc_number or "", doc.title}
    titles = {_base(ref.strip("《》")) for ref in references if ref.startswith("《")}
    return any(ref in names for ref in references) or _base(doc.title) in titles


def _reference_name(ref: str, library: Sequence[SourceDocument]) -> str:
    for doc in library:
        if ref in (doc.file_name, doc.doc_id):
            return prompts.text("answer.doc_card", title=short_title(doc.title))
    return ref


def _doc_id(cand: Scored) -> str:
    return str(cand.meta.get("doc_id", ""))


def _year(doc: SourceDocument) -> str:
    issued = doc.date_issued or doc.date_effective or ""
    return issued[:4] or "?"
