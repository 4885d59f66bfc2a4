"""Character-level cleaning of Chinese text: small pure functions, applied in order by
:func:`ingest.parsing.clean_lines`.

Traditional characters become Simplified and pinyin annotations such as ``貿(mào)`` go (both
with ``core.text``, as questions are normalised, after the garbles some mirror sites leave are
repaired), full-width spaces used as paragraph breaks become breaks,
half-width punctuation inside Chinese text becomes full-width, and whitespace is normalised.
"""

from __future__ import annotations

import re
import statistics

import core.text as core_text
from core.text import CJK

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ODD_SPACES = re.compile("[\u00a0\u2002-\u200a\u202f\u205f\t\v\f]")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_FRONT_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")

# Byte-level garbles that pinyin-annotating mirror sites leave behind, with what they stood for
# (found in the shipped library; the annotation after them is removed as usual).
_GARBLES = {"?shù)剜l": "地鄉"}

_PUNCT_FULL = str.maketrans({",": "，", ";": "；", ":": "：", "!": "！", "?": "？"})
_HALF_PUNCT = re.compile(rf"(?<=[{CJK}”’）》」』)])[,;:!?](?![/\\])")
_DIGIT_SPACE = re.compile(rf"(?<=\d)[ ]+(?=[{CJK}])|(?<=[{CJK}])[ ]+(?=\d)")
_SPACE_RUN = re.compile(r"[ ]{2,}")
_CJK_GAP = re.compile(rf"(?<=[{CJK}，。、；：])[ ](?=[{CJK}，。、；：])")
_CJK_PAIR = re.compile(rf"[{CJK}](?=[{CJK}])")
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–\s]*\d{1,4}[-—–\s]*|第\s*\d+\s*页(?:\s*[/,，]?\s*共\s*\d+\s*页)?)$"
)
_STRUCTURE_START = re.compile(
    r"^(?:#|\*\*|第[零〇一二两三四五六七八九十百千\d]+[编章节条]|[一二三四五六七八九十]+、|"
    r"[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、]|附件|附录)"
)
_SENTENCE_END = "。！？；：”’」』）)"


def normalize_characters(text: str) -> str:
    """Unify line ends and drop invisible characters; odd spaces (NBSP, tabs…) become spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ODD_SPACES.sub(" ", _INVISIBLE.sub("", text))


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split Jekyll-style front matter (``---`` … ``---`` at the very start) from the body.

    Returns the ``key: value`` fields (quotes removed) and the text after the closing ``---``.
    Text without front matter comes back unchanged with no fields.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        field = _FRONT_FIELD.match(line)
        if field:
            value = field.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[field.group(1).lower()] = value
    return fields, text[match.end() :]


def strip_html_comments(text: str) -> str:
    """Remove ``<!-- … -->`` comments (markdown law files carry ``<!-- INFO END -->``)."""
    return _COMMENT.sub("", text)


def unwrap_autolinks(text: str) -> str:
    """``<http://…>`` → ``http://…`` (so HTML parsing does not take the link for a tag)."""
    return _AUTOLINK.sub(r"\1", text)


def strip_markdown_links(line: str) -> str:
    """``[text](url)`` → ``text``; images ``![alt](src)`` are removed."""
    return _LINK.sub(r"\1", _IMAGE.sub("", line))


def remove_pinyin(text: str) -> str:
    """Remove pinyin annotations written after a character: ``貿(mào)易`` → ``貿易``.

    Only a parenthesised single pinyin syllable (lower case, 1–6 letters) right after a CJK
    character goes; ``(NQI)``, ``中國(云南)``, ``(一)``, ``(区、市)`` and English words stay.
    """
    for garble, meant in _GARBLES.items():
        text = text.replace(garble, meant)
    return core_text.remove_pinyin(text)


def ideographic_space_breaks(text: str) -> str:
    """Full-width spaces: a run of two or more (``　　``, a paragraph indent used as the only
    separator) becomes a line break; a single one becomes an ordinary space."""
    return re.sub("\u3000+", lambda m: "\n" if len(m.group()) > 1 else " ", text)


def fullwidth_punctuation(text: str) -> str:
    """Half-width ``, ; : ! ?`` right after a Chinese character become full-width."""
    return _HALF_PUNCT.sub(lambda m: m.group().translate(_PUNCT_FULL), text)


def tighten_digit_spaces(text: str) -> str:
    """Remove spaces between digits and Chinese characters (``2015 年4 月``, ``第163 号``), a
    leftover of PDF extraction."""
    return _DIGIT_SPACE.sub("", text)


def close_cjk_gaps(text: str) -> str:
    """Remove the single spaces some PDF extractions put between Chinese characters
    (``第 一 条 为 了``), but only when most neighbouring characters are spaced that way, so
    deliberate spaces in ordinary text stay."""
    spaced = len(_CJK_GAP.findall(text))
    joined = len(_CJK_PAIR.findall(text))
    if spaced < 10 or spaced < joined:
        return text
    return _CJK_GAP.sub("", text)


def normalize_lines(text: str) -> list[str]:
    """Non-empty lines, each stripped, with runs of spaces collapsed to one."""
    lines = (_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def unwrap_lines(lines: list[str]) -> list[str]:
    """Re-join paragraphs that PDF extraction hard-wrapped at the page width.

    A line is joined to the next when it is about as long as the longest lines of the page
    (so it was wrapped, not ended), does not end a sentence, and the next line does not start
    a heading, an article or a list item. Page numbers (``- 3 -``, ``第 3 页``) are dropped.
    """
    lines = [line for line in lines if not _PAGE_NUMBER.match(line)]
    lengths = sorted(len(line) for line in lines)
    if len(lengths) < 3:
        return lines
    full = statistics.quantiles(lengths, n=10)[-1]
    out: list[str] = []
    last = ""  # the previous physical line
    for line in lines:
        if (
            out
            and len(last) >= 0.85 * full
            and last[-1] not in _SENTENCE_END
            and not _STRUCTURE_START.match(line)
        ):
            out[-1] += line
        else:
            out.append(line)
        last = line
    return out
