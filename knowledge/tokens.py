"""Tokenisation for the keyword index: jieba with the domain's dictionary, stop words, aliases.

A private ``jieba.Tokenizer`` is built lazily (never at import) so the global jieba state is
untouched; its user dictionary (``data/userdict.txt``) keeps domain terms such as 质量基础设施,
强制性产品认证 and 生产许可证 whole. A query term is expanded to its aliases: its synonyms
(``data/synonyms.tsv``: 3C ↔ CCC ↔ 强制性产品认证 …) and its class (``data/broader.tsv``:
月饼 → 食品, one way).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from importlib import resources
from typing import Any

from knowledge.text import normalize_question

log = logging.getLogger(__name__)

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,8}〔\d{4}〕\d+号")
_STANDARD = re.compile(r"(?i)\b(GB/T|GB|DB\d*/T|DB\d*|QB/T|JJG|JJF)\s*(\d+(?:\.\d+)?)(?:-(\d{4}))?")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[./-][a-z0-9]+)*")
_NOISE = re.compile(r"^[\W_]+$")


def _data(name: str) -> str:
    return resources.files("knowledge").joinpath("data", name).read_text(encoding="utf-8")


@cache
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    for line in _data("userdict.txt").splitlines():
        parts = line.split()
        if parts:
            tok.add_word(parts[0], int(parts[1]) if len(parts) > 1 else None)
    return tok


@cache
def tokenizer_id() -> str:
    """Names how passages are tokenised (the user dictionary and the stop words): an index made
    with another id holds stale tokens and is rebuilt."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("userdict.txt", "stopwords.txt"):
        digest.update(_data(name).encode("utf-8") + b"\0")
    return digest.hexdigest()[:12]


@cache
def stopwords() -> frozenset[str]:
    return frozenset(w.strip() for w in _data("stopwords.txt").splitlines() if w.strip())


@cache
def alias_table() -> dict[str, tuple[str, ...]]:
    """Term → its aliases, lower case: the other terms of every synonym group it is in
    (``synonyms.tsv``, symmetric), then the class it belongs to (``broader.tsv``: 月饼 → 食品,
    one way)."""
    groups: dict[str, tuple[str, ...]] = {}

    def add(term: str, others: tuple[str, ...]) -> None:
        groups[term] = tuple(dict.fromkeys(groups.get(term, ()) + others))

    for terms in _rows("synonyms.tsv"):
        for term in terms:
            add(term, tuple(t for t in terms if t != term))
    for broader, *members in _rows("broader.tsv"):
        for member in members:
            add(member, (broader,))
    return groups


def _rows(name: str) -> list[list[str]]:
    """The tab-separated rows of a data file, lower case, without blank and comment lines."""
    return [
        [t.strip().lower() for t in line.split("\t") if t.strip()]
        for line in _data(name).splitlines()
        if line.strip() and not line.startswith("#")
    ]


def tokenize(text: str, *, normalized: bool = False) -> list[str]:
    """Index tokens of a passage or question: jieba search-mode words minus stop words.

    Search mode also yields the parts of long words (质量基础设施 → 质量, 基础, 设施, 质量基础设施),
    so a question using a part still matches. 文号 and standard numbers stay whole.
    """
    if not normalized:
        text = normalize_question(text)
    text = text.lower()
    tokens: list[str] = [m.group(0) for m in _DOC_NUMBER.finditer(text)]
    tokens += [f"{m.group(1).lower()} {m.group(2)}" for m in _STANDARD.finditer(text)]
    stop = stopwords()
    for word in _tokenizer().cut_for_search(text):
        word = word.strip()
        if not word or word in stop or _NOISE.match(word):
            continue
        tokens.append(word)
    return tokens


def expand_query(tokens: list[str]) -> list[str]:
    """The question's tokens plus the aliases of each (each alias once, after the originals)."""
    groups = alias_table()
    extra: list[str] = []
    seen = set(tokens)
    for token in tokens:
        for alias in groups.get(token, ()):
            for part in tokenize(alias, normalized=True) if len(alias) > 4 else [alias]:
                if part not in seen:
                    seen.add(part)
                    extra.append(part)
    return tokens + extra
