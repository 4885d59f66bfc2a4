"""How documents, chunks and FAQ entries are stored in the indexes: ids, metadata, texts.

Each document also gets a *card*: a synthetic chunk holding its title, 文号, issuer and dates,
so that questions about the document itself ("那个通知文号是多少，啥时候发的") find an answer,
and so the document list can be read back from the vector store (shared by all workers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import date
from typing import Any

import prompts
from core.answers import Citation, FaqEntry
from core.documents import Chunk, DocumentKind, SourceDocument
from knowledge.references import short_title

CARRIED_FIELDS = (
    "date_until",
    "date_repealed",
    "superseded_by",
    "supersedes",
    "checked_on",
    "status_note",
)
"""Status fields an admin set that a new version of the same file keeps, unless its own text
says otherwise (its dates of issue and effect come from the new text)."""

_DOC_FIELDS = (
    "doc_id",
    "file_name",
    "title",
    "kind",
    "content_hash",
    "doc_number",
    "issuer",
    "date_issued",
    "date_effective",
    "source_url",
    "source",
    "char_count",
    "ingested_at",
    *CARRIED_FIELDS,
)
_LINKS = ("superseded_by", "supersedes")  # tuples, stored joined by "|"
EDITABLE_FIELDS = (
    "kind",
    "doc_number",
    "issuer",
    "date_issued",
    "date_effective",
    "date_until",
    "date_repealed",
    "superseded_by",
    "supersedes",
    "source_url",
    "checked_on",
    "status_note",
)
"""What an admin may set on a document after ingestion (``qadesk docs set``)."""


def card_id(doc_id: str) -> str:
    return f"{doc_id}:card"


def chinese_date(iso: str | None) -> str | None:
    """2021-05-24 → 2021年5月24日 (other strings unchanged)."""
    if not iso:
        return None
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d.year}年{d.month}月{d.day}日"


def card_text(doc: SourceDocument) -> str:
    """The document card: its metadata as a short Chinese text."""
    lines = [prompts.text("answer.card_title", title=doc.title)]
    if doc.doc_number:
        lines.append(prompts.text("answer.doc_number", doc_number=doc.doc_number))
    if doc.issuer:
        lines.append(prompts.text("answer.issuer", issuer=doc.issuer))
    if issued := chinese_date(doc.date_issued):
        lines.append(prompts.text("answer.date_issued", date=issued))
    if effective := chinese_date(doc.date_effective):
        lines.append(prompts.text("answer.date_effective", date=effective))
    return "\n".join(lines)


def doc_metadata(doc: SourceDocument) -> dict[str, Any]:
    meta = {k: v for k, v in asdict(doc).items() if k in _DOC_FIELDS and v not in (None, ())}
    for key in _LINKS:
        if key in meta:
            meta[key] = "|".join(meta[key])
    meta["kind"] = doc.kind.value
    meta["short_title"] = short_title(doc.title)
    return meta


def chunk_metadata(doc: SourceDocument, chunk: Chunk) -> dict[str, Any]:
    meta = doc_metadata(doc)
    meta.update(ordinal=chunk.ordinal, section=chunk.section, is_card=False)
    if chunk.article:
        meta["article"] = chunk.article
    if chunk.article_no is not None:
        meta["article_no"] = chunk.article_no
    return meta


def card_metadata(doc: SourceDocument) -> dict[str, Any]:
    meta = doc_metadata(doc)
    meta.update(ordinal=-1, section="", is_card=True)
    return meta


def context_text(meta: Mapping[str, Any], text: str) -> str:
    """What is embedded and keyword-indexed for a chunk: its document and heading, then text."""
    head = f"《{meta.get('short_title') or meta.get('title', '')}》"
    if meta.get("section"):
        head += f" {meta['section']}"
    return f"{head}\n{text}"


def document_from_meta(meta: Mapping[str, Any]) -> SourceDocument:
    def opt(key: str) -> str | None:
        value = meta.get(key)
        return str(value) if value not in (None, "") else None

    return SourceDocument(
        doc_id=str(meta["doc_id"]),
        file_name=str(meta["file_name"]),
        title=str(meta["title"]),
        kind=DocumentKind(str(meta.get("kind", "other"))),
        content_hash=str(meta.get("content_hash", "")),
        doc_number=opt("doc_number"),
        issuer=opt("issuer"),
        date_issued=opt("date_issued"),
        date_effective=opt("date_effective"),
        source_url=opt("source_url"),
        source=opt("source"),
        char_count=int(meta.get("char_count", 0) or 0),
        ingested_at=opt("ingested_at"),
        date_until=opt("date_until"),
        date_repealed=opt("date_repealed"),
        superseded_by=tuple(s for s in str(meta.get("superseded_by") or "").split("|") if s),
        supersedes=tuple(s for s in str(meta.get("supersedes") or "").split("|") if s),
        checked_on=opt("checked_on"),
        status_note=opt("status_note"),
    )


def chunk_from_meta(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    article_no = meta.get("article_no")
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        ordinal=int(meta.get("ordinal", 0)),
        text=text,
        section=str(meta.get("section", "")),
        article=str(meta["article"]) if meta.get("article") else None,
        article_no=int(article_no) if article_no is not None else None,
    )


def citation_from_meta(chunk_id: str, text: str, meta: Mapping[str, Any], score: float) -> Citation:
    return Citation(
        document=str(meta.get("file_name", "")),
        title=str(meta.get("title", "")),
        chunk_id=chunk_id,
        text=text,
        score=round(score, 4),
        section=str(meta.get("section", "")),
        article=str(meta["article"]) if meta.get("article") else None,
        doc_number=str(meta["doc_number"]) if meta.get("doc_number") else None,
        kind=str(meta.get("kind", "")),
    )


def faq_metadata(entry: FaqEntry) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "answer": entry.answer,
        "sources": "|".join(entry.sources),
        "approved_by": entry.approved_by,
        "approved_at": entry.approved_at,
    }
    if entry.ticket_id is not None:
        meta["ticket_id"] = entry.ticket_id
    return meta


def faq_from_meta(faq_id: str, question: str, meta: Mapping[str, Any]) -> FaqEntry:
    sources = str(meta.get("sources", ""))
    ticket = meta.get("ticket_id")
    return FaqEntry(
        faq_id=faq_id,
        question=question,
        answer=str(meta.get("answer", "")),
        sources=tuple(s for s in sources.split("|") if s),
        approved_by=str(meta.get("approved_by", "")),
        approved_at=str(meta.get("approved_at", "")),
        ticket_id=int(ticket) if ticket is not None else None,
    )


def edited_card(
    card: Mapping[str, Any], changes: Mapping[str, object]
) -> tuple[SourceDocument, dict[str, Any], str]:
    """A card's document with ``changes`` (``SourceDocument`` field names of
    ``EDITABLE_FIELDS``; ``None`` clears one), and the card's new metadata and text."""
    allowed = set(EDITABLE_FIELDS)
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"fields that cannot be set: {', '.join(sorted(unknown))}")
    new = replace(document_from_meta(card), **changes)  # type: ignore[arg-type]
    meta = {k: v for k, v in card.items() if k not in allowed}
    meta.update(card_metadata(new))
    for name in allowed - set(meta):  # Chroma merges metadata: "" reads as unset
        meta[name] = ""
    return new, meta, card_text(new)


def carry_status(previous: SourceDocument, new: SourceDocument) -> SourceDocument:
    """``new`` with the status fields of the version it replaces where it has none itself."""
    kept = {
        name: getattr(previous, name)
        for name in CARRIED_FIELDS
        if getattr(new, name) in (None, ()) and getattr(previous, name) not in (None, ())
    }
    return replace(new, **kept) if kept else new
