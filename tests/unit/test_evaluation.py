"""`qadesk eval`: the figures the README quotes, and cross-validation that never scores a
question with a model that saw it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app import evaluation
from core.answers import Answer, Citation, Decision, EscalationReason
from knowledge.answering import Prepared
from knowledge.question import analyse

EVIDENCE = "个体工商户可以制造、修理简易的计量器具"


def _cite(document, text, quote=""):
    return Citation(
        document=document, title="t", chunk_id=document, text=text, score=1.0, quote=quote
    )


def _outcome(kind, decision, cites=(), text="", source="L03.md", ms=10.0):
    item = {"type": kind, "source_doc": source, "evidence": EVIDENCE, "question": "q"}
    return evaluation.Outcome(item, Answer("q", decision, text, tuple(cites)), ms)


def test_summary_counts_correct_answers_only_when_answered_from_the_evidence():
    right = _cite("L03.md", "第十七条 " + EVIDENCE + "。", quote=EVIDENCE)
    unquoted = _cite("L03.md", "第十七条 " + EVIDENCE + "。")
    wrong_doc = _cite("L08.md", EVIDENCE, quote=EVIDENCE)
    report = evaluation.Report(
        [
            _outcome("answerable", Decision.ANSWER, [right], text=EVIDENCE),  # correct
            _outcome("answerable", Decision.ANSWER, [wrong_doc, unquoted]),  # hit@5, not doc@1
            _outcome("answerable", Decision.ESCALATE, [right]),  # found, not answered
            _outcome("answerable", Decision.ANSWER, [wrong_doc]),  # answered wrongly
            _outcome("out_of_scope", Decision.ESCALATE),
            _outcome("out_of_scope", Decision.ANSWER, [wrong_doc]),
            _outcome("ambiguous_or_needs_expert", Decision.ESCALATE, ms=30.0),
        ]
    )
    s = report.summary()
    assert s["answerable"] == 4 and s["questions"] == 7
    assert s["answered_rate"] == pytest.approx(3 / 4)
    assert s["doc_at_1"] == pytest.approx(2 / 4)
    assert s["hit_at_5"] == pytest.approx(3 / 4)
    assert s["correct_answer_rate"] == pytest.approx(2 / 4)
    assert s["quoted_correct_rate"] == pytest.approx(1 / 4)  # the second quotes another law
    assert s["escalation_rate[out_of_scope]"] == pytest.approx(1 / 2)
    assert s["escalation_rate[ambiguous_or_needs_expert]"] == 1.0
    assert s["evidence_in_answer"] == pytest.approx(1 / 4)  # only the first quotes it whole
    assert s["latency_p95_ms"] > s["latency_p50_ms"] == 10.0
    failed = {(r["kind"], r["decision"]) for r in report.failures()}
    assert failed == {
        ("answerable", "escalate"),
        ("answerable", "answer"),
        ("out_of_scope", "answer"),
    }


def test_a_passage_holding_too_little_of_the_evidence_is_no_hit():
    half = _cite("L03.md", EVIDENCE[:6])
    assert not _outcome("answerable", Decision.ANSWER, [half]).hit_at_5()


def test_files_are_read_with_their_names_and_reported_apart(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"question": "x", "type": "answerable"}\n\n', "utf-8")
    (tmp_path / "b.jsonl").write_text('{"question": "y", "type": "out_of_scope"}\n', "utf-8")
    items = evaluation.read_files([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    assert [i["_file"] for i in items] == ["a.jsonl", "b.jsonl"]
    report = evaluation.Report(
        [evaluation.Outcome(i, Answer("q", Decision.ESCALATE, ""), 1.0) for i in items]
    )
    assert list(evaluation.by_file(report)) == ["a.jsonl", "b.jsonl"]


class _RecordingKnowledge:
    """Prepares each question once and answers with whatever model it is handed."""

    def __init__(self):
        self.prepared: list[str] = []
        self.answered: list[tuple[str, frozenset[str]]] = []

    def prepare(self, question):
        self.prepared.append(question)
        return Prepared(question, question, analyse(question), (1.0,), (), early=None)

    def respond(self, prepared, model):
        self.answered.append((prepared.question, model.info["seen"]))
        return Answer(prepared.question, Decision.ESCALATE, "", reason=EscalationReason.NONE)


def test_cross_validation_scores_every_question_once_with_a_model_that_never_saw_it():
    items = [
        {"question": f"q{i}", "type": t, "_file": "f"}
        for i, t in enumerate(["answerable", "out_of_scope", "ambiguous_or_needs_expert"] * 7)
    ]
    extra = [{"question": f"x{i}", "type": "out_of_scope", "_file": "neg"} for i in range(3)]
    kb = _RecordingKnowledge()
    fits: list[frozenset[str]] = []

    def fitter(examples):
        seen = frozenset(ex.item["question"] for ex in examples)
        fits.append(seen)
        return SimpleNamespace(info={"seen": seen})

    report = evaluation.cross_validate(kb, items, 5, extra=extra, fitter=fitter)
    assert len(fits) == 5
    assert sorted(kb.prepared) == sorted(i["question"] for i in items + extra)  # each once
    scored = [q for q, _ in kb.answered]
    assert sorted(scored) == sorted(i["question"] for i in items)  # extra never scored
    for question, seen in kb.answered:
        assert question not in seen
        assert {"x0", "x1", "x2"} <= seen
        assert len(seen) == len(items) + len(extra) - sum(1 for q, s in kb.answered if s == seen)
    assert [o.item["question"] for o in report.outcomes] == [i["question"] for i in items]


def test_repeated_cross_validation_runs_retrieval_once_and_splits_differently():
    items = [
        {"question": f"q{i}", "type": t, "_file": "f"}
        for i, t in enumerate(["answerable", "out_of_scope"] * 10)
    ]
    kb = _RecordingKnowledge()
    fits: list[frozenset[str]] = []

    def fitter(examples):
        seen = frozenset(ex.item["question"] for ex in examples)
        fits.append(seen)
        return SimpleNamespace(info={"seen": seen})

    reports = evaluation.cross_validate_repeated(kb, items, 5, repeats=3, fitter=fitter)
    assert len(reports) == 3 and len(fits) == 15
    assert sorted(kb.prepared) == sorted(i["question"] for i in items)  # retrieval once
    assert len(kb.answered) == 3 * len(items)  # every question scored once per split
    splits = [frozenset(fits[5 * r : 5 * r + 5]) for r in range(3)]
    assert len(set(splits)) == 3  # three different fold assignments


def test_spread_gives_each_figure_its_mean_and_range():
    merged = evaluation.spread(
        [{"questions": 10, "hit_at_5": 0.5}, {"questions": 10, "hit_at_5": 0.8}]
    )
    assert merged["questions"] == 10
    assert merged["hit_at_5"]["min"] == 0.5 and merged["hit_at_5"]["max"] == 0.8
    assert abs(merged["hit_at_5"]["mean"] - 0.65) < 1e-9


def test_eval_refuses_repeats_without_cross_validation(tmp_path):
    import typer
    from typer.testing import CliRunner

    from app.cli import quality as cli_quality

    app = typer.Typer()
    cli_quality.register(app)
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "计量器具要检定吗", "type": "answerable"}\n', "utf-8")
    result = CliRunner().invoke(app, ["eval", str(questions), "--repeats", "3"])
    assert result.exit_code == 2 and "只能与 --cv 一起用" in result.stderr
