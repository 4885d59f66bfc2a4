"""HTML → plain text with its paragraphs kept, plus what the page says about itself.

Block elements become paragraphs (one per line), ``<br>`` a line break, ``<h1>``–``<h6>`` markdown
headings and a paragraph that is all bold (``<p><strong>…</strong></p>``) a ``**bold**`` line, so
the structure step sees them as headings. Scripts, styles and page furniture (``<nav>``,
``<header>``, ``<footer>``, elements whose class or id says nav/footer/share…) are dropped.
"""

from __future__ import annotations

import re
from typing import Any

_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "form", "nav", "footer", "aside")
_DROP_HINT = re.compile(
    r"(^|[-_ ])(nav|navbar|menu|breadcrumbs?|crumbs?|footer|foot|copyright|share|sidebar|"
    r"toolbar|topbar|header-bar|site-header)([-_ ]|$)",
    re.I,
)
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd"}
) | {
    *("tr", "table", "tbody", "thead", "blockquote", "pre", "center", "address", "figure"),
    *("figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "title"),
}
_BOLD = frozenset({"strong", "b"})
_TAG_HINT = re.compile(r"<\s*/?\s*(p|br|div|span|strong|b|h[1-6]|li|td|table|a)\b[^>]*>", re.I)
_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s)\s*")
_META_HINTS = {
    "articletitle": "title",
    "og:title": "title",
    "pubdate": "date",
    "publishdate": "date",
    "firstpublishedtime": "date",
    "contentsource": "source",
    "source": "source",
    "author": "author",
}


def looks_like_html(text: str) -> bool:
    """True when a text carries HTML markup worth converting (a few tags such as ``<p>``)."""
    return len(_TAG_HINT.findall(text[:200_000])) >= 2


def html_to_text(html: str) -> tuple[str, dict[str, str]]:
    """Convert HTML to text (paragraphs on their own lines) and return it with page hints.

    Hints (all optional): ``title`` (from ``<meta name="ArticleTitle">``, ``og:title``, the
    first ``<h1>`` or ``<title>``), ``date``, ``source``, ``author``.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    hints = _meta_hints(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.name in {"html", "body"}:
            continue
        marks = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
        if marks.strip() and _DROP_HINT.search(marks):
            tag.decompose()
    title_tag = soup.find("title")
    page_title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if title_tag:
        title_tag.decompose()
    h1 = soup.find("h1")
    if "title" not in hints:
        heading = h1.get_text(" ", strip=True) if h1 else ""
        hints["title"] = heading or _main_title_part(page_title)
    if not hints["title"]:
        del hints["title"]
    parts: list[str] = []
    root = soup.body or soup
    _walk(root, parts)
    text = "".join(parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip(), hints


def _meta_hints(soup: Any) -> dict[str, str]:
    hints: dict[str, str] = {}
    for meta in soup.find_all("meta"):
        key = str(meta.get("name") or meta.get("property") or "").lower()
        value = str(meta.get("content") or "").strip()
        if key in _META_HINTS and value and _META_HINTS[key] not in hints:
            hints[_META_HINTS[key]] = value
    return hints


def _main_title_part(page_title: str) -> str:
    """``标题_国家市场监督管理总局`` → ``标题``: a page title without the site name after it."""
    parts = [p for p in _TITLE_SPLIT.split(page_title) if p]
    return parts[0] if parts else ""


def _walk(node: Any, out: list[str]) -> None:
    from bs4.element import NavigableString, Tag

    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child).__name__ in {
                "Comment",
                "Doctype",
                "Declaration",
                "ProcessingInstruction",
            }:
                continue
            out.append(_squash_spaces(str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name == "br":
            out.append("\n")
        elif name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            text = child.get_text(" ", strip=True)
            if text:
                out.append(f"\n\n{'#' * int(name[1])} {text}\n\n")
        elif name in {"td", "th"}:
            out.append(" ")
            _walk(child, out)
            out.append(" ")
        elif name in _BLOCKS:
            if name == "p" and _all_bold(child):
                text = child.get_text(" ", strip=True)
                out.append(f"\n\n**{text}**\n\n" if text else "\n")
                continue
            out.append("\n\n")
            _walk(child, out)
            out.append("\n\n")
        else:
            _walk(child, out)


def _squash_spaces(text: str) -> str:
    """HTML whitespace: a blank line (kept by text fragments pasted into pages) stays a
    paragraph break, any other run of whitespace is one space."""
    text = re.sub(r"\s*\n\s*\n\s*", "\n\n", text)
    return re.sub(r"[^\S\n]+|(?<!\n)\n(?!\n)", " ", text)


def _all_bold(tag: Any) -> bool:
    """True when every piece of text in ``tag`` sits inside ``<strong>``/``<b>``."""
    from bs4.element import NavigableString

    texts = [t for t in tag.find_all(string=True) if str(t).strip()]
    if not texts:
        return False
    for text in texts:
        if not isinstance(text, NavigableString):
            return False
        parent = text.parent
        while parent is not None and parent is not tag and parent.name not in _BOLD:
            parent = parent.parent
        if parent is None or parent is tag:
            return False
    return True
