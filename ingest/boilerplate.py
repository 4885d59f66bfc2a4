"""Lines that belong to the web page, not to the document: navigation, footers, share bars,
spam headlines and address banners. Each test is a small pure predicate on one line of
already simplified text; :func:`remove_boilerplate` applies them to a document's lines.
"""

from __future__ import annotations

import re

_MAX_FOOTER_LEN = 160
_ARTICLE = re.compile(r"^第[零〇一二两三四五六七八九十百千\d]+条")
_FOOTER = re.compile(
    r"版权所有|版权声明|copyright|©|icp备|icp证|公网安备|网站标识码|备案号|返回首页|返回顶部|"
    r"分享到|阅读次数|浏览次数|点击数\s*[:：]|责任编辑|字体\s*[:：]?\s*[\[【(（]?\s*大\s*中\s*小|"
    r"违法和不良信息举报|打印本页|关闭窗口|【\s*打印\s*】|【\s*关闭\s*】|扫一扫|"
    r"主办单位\s*[:：]|承办单位\s*[:：]|技术支持\s*[:：]|未经授权.{0,12}转载|网站地图|免责声明",
    re.I,
)
_NAV_WORDS = re.compile(
    r"首页|关于我们|网站地图|联系我们|客服中心|广告服务|建站服务|版权保护|免责声明|帮助中心|"
    r"意见反馈|设为首页|加入收藏|无障碍|english|返回",
    re.I,
)
_NAV_SPLIT = re.compile(r"\s*[|｜]\s*")
_BREADCRUMB = re.compile(r"^(?:您?(?:当前)?的?(?:所在)?位置|首页)\s*[:：]?")
_CRUMB_ARROWS = re.compile(r"[>»›]")
_SPAM_WORDS = re.compile(
    r"在线|免费|视频|播放|网址|影院|观看|[一二三]区|a[vⅴ]|国产|欧美|日韩|亚洲|精品|久久|无码|成人",
    re.I,
)
_SPAM_SPLIT = re.compile(r"[_|｜]")
_BULLET = re.compile(r"^[•·●▪■◆◇□\-*]\s*")
_PHONE = re.compile(r"(?:电话|热线|传真|tel)\s*[:：]?\s*[\d\-—()（）\s]{7,}|\d{3,4}-\d{7,8}", re.I)
_ADDRESS_WORDS = re.compile(r"地址|路|街|巷|大厦|大楼|幢|号楼|室|片区|园区")
_PLACEHOLDER = re.compile(r"^[【\[](?:资料图|图片|组图|视频|图)[】\]]$")
_LINK_ONLY = re.compile(r"^(?:\s*!?\[[^\]]*\]\([^)]*\)\s*[|｜>»›/·,，、\s]*)+$")
_URL_ONLY = re.compile(r"^(?:https?:)?//\S+$")


def is_footer_line(line: str) -> bool:
    """Copyright, ICP/公网安备 registration, share bars, read counters, 责任编辑, font-size
    switches and similar page furniture (never an article of a law)."""
    return len(line) <= _MAX_FOOTER_LEN and not _ARTICLE.match(line) and bool(_FOOTER.search(line))


def is_nav_line(line: str) -> bool:
    """A row of three or more short menu items separated by ``|`` (关于我们 | 网站地图 | …)."""
    items = [item for item in _NAV_SPLIT.split(line) if item]
    return (
        len(items) >= 3
        and all(len(item) <= 8 for item in items)
        and any(_NAV_WORDS.search(item) for item in items)
    )


def is_breadcrumb(line: str) -> bool:
    """``首页 > 综合管理``, ``您当前的位置：观察 >``."""
    return len(line) <= 60 and bool(_BREADCRUMB.match(line)) and bool(_CRUMB_ARROWS.search(line))


def is_link_only_line(line: str) -> bool:
    """A line made of markdown links and separators only (``[首页](#) > [综合管理](#)``)."""
    return bool(_LINK_ONLY.match(line))


def is_url_line(line: str) -> bool:
    """A line that is one bare URL."""
    return bool(_URL_ONLY.match(line))


def is_spam_line(line: str) -> bool:
    """A keyword-stuffed headline injected by a mirror site (``日本在线免费…_欧美…播放_…``)."""
    parts = [part for part in _SPAM_SPLIT.split(line) if part.strip()]
    return len(parts) >= 3 and len(_SPAM_WORDS.findall(line)) >= 2


def is_banner_line(line: str) -> bool:
    """An address or phone banner from the top of a page (``• …大厦…6幢``, ``• 服务电话0871-…``)."""
    if len(line) > 80 or "。" in line:
        return False
    bulleted = bool(_BULLET.match(line))
    if _PHONE.search(line):
        return bulleted or len(line) <= 40
    return bulleted and len(_ADDRESS_WORDS.findall(line)) >= 2


def is_placeholder(line: str) -> bool:
    """An image placeholder such as ``【资料图】``."""
    return bool(_PLACEHOLDER.match(line))


def is_page_furniture(line: str) -> bool:
    """Any boilerplate that may appear anywhere on a page."""
    return (
        is_footer_line(line)
        or is_nav_line(line)
        or is_breadcrumb(line)
        or is_link_only_line(line)
        or is_placeholder(line)
    )


def is_leading_junk(line: str) -> bool:
    """Boilerplate seen only above the headline: spam headlines, banners, bare URLs, furniture."""
    return (
        is_spam_line(line) or is_banner_line(line) or is_url_line(line) or is_page_furniture(line)
    )


def remove_boilerplate(lines: list[str]) -> tuple[list[str], list[str]]:
    """Drop page boilerplate from a document's lines.

    Leading junk is removed up to the first line that is not junk; furniture is removed
    everywhere. Returns the kept lines and the bare URLs found (a page's own address is often
    the only URL in it).
    """
    urls: list[str] = []
    start = 0
    while start < len(lines) and is_leading_junk(lines[start]):
        if is_url_line(lines[start]):
            urls.append(lines[start])
        start += 1
    kept = []
    for line in lines[start:]:
        if is_url_line(line):
            urls.append(line)
        elif not is_page_furniture(line):
            kept.append(line)
    return kept, urls
