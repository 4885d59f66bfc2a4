"""Rendering for Telegram: escaping, splitting under the limit, cards, buttons, catalog keys.

The stand-in server's HTML parser (what Telegram accepts) is the oracle for "valid HTML".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import prompts
from bot.telegram import keyboards
from bot.telegram.cards import card_text, original_messages
from bot.telegram.keyboards import Action, Kind
from bot.telegram.render import (
    MESSAGE_LIMIT,
    document_list,
    escape,
    html_text,
    ingest_result,
    plain_messages,
    split_html_blocks,
    split_text,
    stats_text,
    ticket_list,
    utf16_len,
)
from core.answers import Citation
from core.documents import DocumentKind, SourceDocument
from core.people import Channel, Domain, UserRef
from core.tickets import Ticket, TicketStatus
from desk import report
from desk.api import IngestOutcome, Stats
from tests.fakes.telegram_api import ApiError, parse_telegram_html

NASTY = "<script>alert(1)</script> & <b>粗体</b> &amp; 1<2 a>b \"引号\" 'x'"
ASKER = UserRef(Channel.TELEGRAM, "1001", "1001", "张三")


def valid(html: str) -> str:
    """Telegram's reading of ``html`` (raises ApiError if Telegram would refuse it)."""
    plain = parse_telegram_html(html)
    assert utf16_len(plain) <= MESSAGE_LIMIT
    return plain


def ticket(**changes: object) -> Ticket:
    base = Ticket(
        ticket_id=42,
        question="电子秤需要强制检定吗？" + NASTY,
        asker=ASKER,
        status=TicketStatus.OPEN,
        domain=Domain.METROLOGY,
        created_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        draft_answer="用于贸易结算的电子秤属于强制检定。" + NASTY,
        passages=(
            Citation(
                "L03.md", "计量法<2018>", "c1", "第九条全文" * 50 + NASTY, 0.8, article="第九条"
            ),
        ),
    )
    values = {name: getattr(base, name) for name in base.__slots__}
    values.update(changes)
    return Ticket(**values)  # type: ignore[arg-type]


def test_escape_makes_user_text_inert():
    assert valid(escape(NASTY)) == NASTY
    with pytest.raises(ApiError):
        parse_telegram_html(NASTY)


def test_catalog_text_escapes_template_and_values():
    out = html_text("telegram.admin.learned", title="<GB 2760>&")
    assert "&lt;GB 2760&gt;&amp;" in out
    assert valid(out) == "已加入知识库：《<GB 2760>&》"


@pytest.mark.parametrize("unit", ["质量", "a&b<", "😀", "第一段。\n\n"])
def test_split_keeps_every_piece_under_the_limit_and_loses_nothing(unit: str):
    text = unit * 6000
    pieces = split_text(text)
    assert len(pieces) > 1
    for piece in pieces:
        assert utf16_len(escape(piece)) <= 3500
        valid(escape(piece))
    assert "".join(pieces).replace("\n", "") == text.strip().replace("\n", "")


def test_split_prefers_paragraph_boundaries():
    paragraph = "计量器具应当定期检定。" * 40
    text = "\n\n".join([paragraph] * 12)
    pieces = split_text(text)
    assert all(p.endswith("。") for p in pieces)
    assert all(paragraph in p for p in pieces)


def test_split_short_and_empty_text():
    assert split_text("  你好  ") == ["你好"]
    assert split_text("") == [""]


def test_plain_messages_bold_title_on_first_only():
    messages = plain_messages("答" * 9000, title="问<题>")
    assert messages[0].startswith("<b>问&lt;题&gt;</b>")
    assert all("<b>" not in m for m in messages[1:])
    for message in messages:
        valid(message)


def test_split_html_blocks_never_exceeds_limit():
    blocks = [escape("条" * 3000)] * 5
    messages = split_html_blocks(blocks)
    assert len(messages) == 5
    assert all(utf16_len(m) <= MESSAGE_LIMIT for m in messages)


def test_card_is_one_valid_message_even_with_huge_and_hostile_fields():
    big = ticket(
        question="问" * 9000 + NASTY, draft_answer="草" * 9000, passages=ticket().passages * 8
    )
    plain = valid(card_text(big))
    assert "#42" in plain and "计量" in plain and "Telegram" in plain
    assert "已截断" in plain
    assert plain.count("《计量法<2018>》第九条") == 3


def test_card_shows_state_and_escapes():
    plain = valid(card_text(ticket(status=TicketStatus.CLAIMED, claimed_by_name="李<专家>")))
    assert "李<专家> 已认领" in plain
    assert NASTY in plain


def test_card_without_draft_or_passages():
    plain = valid(card_text(ticket(draft_answer="", passages=())))
    assert prompts.text("telegram.card.no_draft") in plain
    assert prompts.text("telegram.card.no_passages") in plain


def test_original_messages_carry_everything_in_valid_pieces():
    big = ticket(question="问" * 5000, answer="专家答复" + NASTY)
    messages = original_messages(big)
    plains = [valid(m) for m in messages]
    joined = "".join(plains)
    assert joined.count("问") >= 5000
    assert "第九条全文" * 50 in joined.replace("\n", "")
    assert "专家答复" + NASTY in joined


def test_callback_data_round_trip_and_size():
    for data in [
        keyboards.encode(Kind.FEEDBACK, 2**62, Action.NOT_SOLVED),
        keyboards.encode(Kind.EXPERT_ANSWER, 2**62, Action.HELPFUL, 2**62),
        keyboards.encode(Kind.TICKET, 7, Action.CLAIM),
        keyboards.encode(Kind.EXAMPLE, 2),
    ]:
        assert len(data.encode()) <= 64
        press = keyboards.decode(data)
        assert (
            press is not None
            and keyboards.encode(press.kind, press.ident, press.action, press.extra) == data
        )


@pytest.mark.parametrize("data", [None, "", "zz:1", "fb:x", "fb:1:q", "tk:1:c:2:3", "fb"])
def test_foreign_callback_data_is_refused(data: str | None):
    assert keyboards.decode(data) is None


def test_card_buttons_follow_ticket_state():
    def labels(t: Ticket) -> list[str]:
        return [b.text for row in keyboards.card(t).inline_keyboard for b in row]

    assert labels(ticket()) == ["认领", "查看原文"]
    assert labels(ticket(status=TicketStatus.CLAIMED)) == ["查看原文"]
    assert labels(ticket(status=TicketStatus.ANSWERED)) == ["发布到知识库", "查看原文"]
    assert labels(ticket(status=TicketStatus.ANSWERED, published_faq_id="f1")) == ["查看原文"]


def test_ticket_list_newest_first_with_status_and_answer():
    now = datetime.now(UTC)
    old = ticket(ticket_id=1, question="旧问题", created_at=now - timedelta(days=2))
    new = ticket(
        ticket_id=2,
        question="新问题",
        created_at=now,
        status=TicketStatus.ANSWERED,
        answer="专家说<可以>",
    )
    plain = valid(ticket_list([old, new])[0])
    assert plain.index("#2") < plain.index("#1")
    assert "专家已答复" in plain and "专家说<可以>" in plain and "等待专家认领" in plain


def test_stats_text_handles_missing_figures():
    stats = Stats(None, None, 3, 10, 6, 4, 2, None, None, 600.0, 7200.0, 5, 1,
                  {"metrology": 2, "unknown": 1}, [("<奇怪>问题", 3)])  # fmt: skip
    messages = stats_text(stats)
    assert messages[0].startswith("<b>服务统计（全部时间）</b>")
    plain = "".join(valid(m) for m in messages)
    title, body = report.text_report(stats).split("\n", 1)
    assert plain == f"{title}\n\n{body}"  # the report qadesk stats prints
    assert "收到的问题：10" in plain and "有用率：83.3%" in plain
    assert "10 分钟 / 2 小时" in plain and "— / —" in plain
    assert "  计量：2" in plain and "  3 次｜<奇怪>问题" in plain


def test_ingest_result_says_what_was_learned_or_why_not():
    doc = SourceDocument("d1", "a.pdf", "关于<加强>质量的通知", DocumentKind.NOTICE, "h",
                         doc_number="市监质发〔2021〕34号")  # fmt: skip
    learned = valid(ingest_result(IngestOutcome("a.pdf", doc, sections=7, chunks=31)))
    assert "关于<加强>质量的通知" in learned and "市监质发〔2021〕34号" in learned
    assert "7 个章节" in learned and "31 个检索片段" in learned
    refused = valid(
        ingest_result(IngestOutcome("b.pdf", error="no text <layer>", error_code="empty_document"))
    )
    assert prompts.error_text("empty_document") in refused and "no text <layer>" in refused
    locked = IngestOutcome(
        "c.pdf", error="locked", error_code="unreadable_file", error_reason="encrypted"
    )
    assert prompts.text("ingest.reason.encrypted") in valid(ingest_result(locked))
    same = valid(ingest_result(IngestOutcome("a.pdf", doc, unchanged=True)))
    assert same == prompts.text("telegram.admin.unchanged")


def test_document_list_escapes_titles():
    docs = [
        SourceDocument(f"d{i}", "x.md", f"标题<{i}>", DocumentKind.LAW, "h") for i in range(300)
    ]
    messages = document_list(docs)
    assert len(messages) > 1
    assert "标题<299>" in "".join(valid(m) for m in messages)


def test_every_telegram_key_used_in_code_exists():
    root = Path(__file__).resolve().parents[2] / "bot" / "telegram"
    used = set()
    for source in root.glob("*.py"):
        used |= set(
            re.findall(r'"(telegram\.[a-z_]+\.[a-z_]+)"', source.read_text(encoding="utf-8"))
        )
    assert len(used) > 40
    for key in used:
        prompts.raw(key)
    for kind in ("photo", "sticker", "voice", "location", "other"):
        prompts.text(f"telegram.unsupported.{kind}")
    for status in TicketStatus:
        prompts.text(f"desk.status.{status.value}")
    for domain in Domain:
        prompts.text(f"desk.domain.{domain.value}")
    for channel in Channel:
        prompts.text(f"desk.channel.{channel.value}")
