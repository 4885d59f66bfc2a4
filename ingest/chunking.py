"""Blocks of an outline → chunks sized for a 512-token embedding model.

One article per chunk when it fits; otherwise, and for running text, paragraphs are packed
up to :data:`TARGET_CHARS`, short neighbours in one section merged. A chunk only ends at a
paragraph end or after 。！？；; a single sentence longer than :data:`MAX_CHARS` is cut after
a ，as a last resort (and, failing that, at the limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from core.documents import Chunk
from ingest.structure import Block

TARGET_CHARS = 400
"""Paragraphs are packed into one chunk up to this many characters."""
MAX_CHARS = 480
"""No chunk is longer (a whole article up to this size stays in one chunk)."""
MIN_CHARS = 80
"""A last piece shorter than this joins the previous piece of the same block when it fits."""
SECTION_SEPARATOR = " > "

_SENTENCE = re.compile(r".+?(?:[。！？；]+[”’」』）)]*|$)", re.S)
_CLAUSE = re.compile(r".+?(?:，|$)", re.S)


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph, each keeping its end mark (and closing quote)."""
    return [s for s in _SENTENCE.findall(text) if s]


def split_clauses(sentence: str) -> list[str]:
    """Pieces of an over-long sentence cut after each ，(the last resort)."""
    return [c for c in _CLAUSE.findall(sentence) if c]


def hard_split(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters."""
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def pack(units: Iterable[str], joiner: str, target: int = TARGET_CHARS) -> list[str]:
    """Greedily join consecutive units while the result stays within ``target``; a unit
    longer than ``target`` stands alone. A last piece under :data:`MIN_CHARS` joins the one
    before it when the two fit in :data:`MAX_CHARS`."""
    pieces: list[str] = []
    for unit in units:
        if pieces and len(pieces[-1]) + len(joiner) + len(unit) <= target:
            pieces[-1] += joiner + unit
        else:
            pieces.append(unit)
    if len(pieces) >= 2 and len(pieces[-1]) < MIN_CHARS:
        merged = pieces[-2] + joiner + pieces[-1]
        if len(merged) <= MAX_CHARS:
            pieces[-2:] = [merged]
    return pieces


def fit_paragraph(paragraph: str) -> list[str]:
    """A paragraph as pieces no longer than :data:`MAX_CHARS`, cut at sentence ends first."""
    if len(paragraph) <= MAX_CHARS:
        return [paragraph]
    units: list[str] = []
    for sentence in split_sentences(paragraph):
        if len(sentence) <= MAX_CHARS:
            units.append(sentence)
            continue
        for clause in pack(split_clauses(sentence), ""):
            units.extend(hard_split(clause) if len(clause) > MAX_CHARS else [clause])
    return pack(units, "")


def block_texts(block: Block) -> list[str]:
    """The chunk texts of one block (paragraphs joined by line breaks)."""
    whole = "\n".join(block.paragraphs)
    if block.article and len(whole) <= MAX_CHARS:
        return [whole]
    units = [piece for paragraph in block.paragraphs for piece in fit_paragraph(paragraph)]
    return pack(units, "\n")


def make_chunks(doc_id: str, blocks: Iterable[Block]) -> tuple[Chunk, ...]:
    """Number the chunks of all blocks: ``chunk_id`` is ``{doc_id}:{ordinal:04d}``."""
    return tuple(_numbered(doc_id, blocks))


def _numbered(doc_id: str, blocks: Iterable[Block]) -> Iterator[Chunk]:
    ordinal = 0
    for block in blocks:
        section = SECTION_SEPARATOR.join(block.section)
        for text in block_texts(block):
            yield Chunk(
                chunk_id=f"{doc_id}:{ordinal:04d}",
                doc_id=doc_id,
                ordinal=ordinal,
                text=text,
                section=section,
                article=block.article,
                article_no=block.article_no,
            )
            ordinal += 1
