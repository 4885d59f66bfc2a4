"""The on-disk spool of questions the database could not take: whole files only, oldest first,
an unreadable one set aside, one drainer at a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.answers import Answer, Citation, Decision, EscalationReason
from core.people import Channel, UserRef
from desk.spool import QuestionSpool

ASKER = UserRef(Channel.WECHAT, "o-1", None, "赵经理")
ASKED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CITED = Citation(
    "L03_计量法_2018.md", "中华人民共和国计量法", "c1", "第九条……", 0.8, article="第九条"
)


def escalation(question: str) -> Answer:
    return Answer(question, Decision.ESCALATE, "转专家", (CITED,), 0.2, EscalationReason.NO_MATCH)


def test_a_kept_question_reads_back_as_it_was_asked(tmp_path: Path) -> None:
    spool = QuestionSpool(tmp_path / "spool")
    spool_id = spool.put(ASKER, "锅炉要年检吗？", escalation("锅炉要年检吗？"), ASKED)
    (entry,) = spool.pending()
    assert (entry.spool_id, entry.user, entry.question, entry.asked_at) == (
        spool_id,
        ASKER,
        "锅炉要年检吗？",
        ASKED,
    )
    assert entry.answer == escalation("锅炉要年检吗？")
    assert entry.replied is False  # an escalation: the asker still waits for a ticket number
    (file,) = (tmp_path / "spool").glob("*.json")
    assert len(file.read_text(encoding="utf-8").splitlines()) == 1  # one JSON line
    assert json.loads(file.read_text(encoding="utf-8"))["question"] == "锅炉要年检吗？"


def test_questions_come_back_oldest_first_and_leave_when_removed(tmp_path: Path) -> None:
    spool = QuestionSpool(tmp_path)
    later = spool.put(ASKER, "第二个", escalation("第二个"), ASKED + timedelta(seconds=1))
    first = spool.put(ASKER, "第一个", escalation("第一个"), ASKED)
    assert [e.spool_id for e in spool.pending()] == [first, later]
    spool.remove(first)
    spool.remove(first)  # twice is harmless
    assert [e.spool_id for e in spool.pending()] == [later]
    assert spool.count() == 1


def test_an_unreadable_file_is_set_aside_and_a_half_written_one_is_never_read(
    tmp_path: Path,
) -> None:
    spool = QuestionSpool(tmp_path)
    good = spool.put(ASKER, "好的", escalation("好的"), ASKED)
    (tmp_path / "20250101T000000000000-broken.json").write_text("{not json", encoding="utf-8")
    (tmp_path / ".20250101T000000000001-x.tmp").write_text("{", encoding="utf-8")  # mid-write
    assert [e.spool_id for e in spool.pending()] == [good]
    assert (tmp_path / "20250101T000000000000-broken.bad").exists()


def test_only_one_drainer_at_a_time(tmp_path: Path) -> None:
    spool, other = QuestionSpool(tmp_path), QuestionSpool(tmp_path)
    with spool.draining() as mine, other.draining() as theirs:
        assert (mine, theirs) == (True, False)
    with other.draining() as theirs:
        assert theirs is True


def test_what_was_typed_comes_back_and_entries_kept_before_it_was_still_read(
    tmp_path: Path,
) -> None:
    spool = QuestionSpool(tmp_path)
    question = "店里的加油机要强制检定吗"
    spool.put(ASKER, question, escalation(question), ASKED, typed="那加油机呢")
    (entry,) = spool.pending()
    assert (entry.question, entry.typed) == (question, "那加油机呢")
    (file,) = tmp_path.glob("*.json")
    data = json.loads(file.read_text(encoding="utf-8"))
    del data["typed"]
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (older,) = spool.pending()
    assert (older.question, older.typed) == (question, None)
