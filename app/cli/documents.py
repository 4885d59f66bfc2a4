"""`qadesk docs …`: list, show, remove and check the library's documents; ``set`` what
ingestion could not know about one (its kind, number, dates, links), ``status`` of every
document today."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from app import bootstrap
from app.cli.common import echo_json, fail, load_settings, reporting, say
from core.document_status import status_of

_DATE_HELP = "YYYY-MM-DD (or 2024年7月1日); '-' clears it."
_REF_HELP = "A doc id or file name of the library, or the 文号/标准号 or 《title》 of a document outside it (repeatable; '-' clears)."


docs_cli = typer.Typer(help="The documents in the library.", no_args_is_help=True)


@docs_cli.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the documents in the library."""
    kb = bootstrap.build_knowledge(load_settings())
    docs = kb.documents()
    if as_json:
        echo_json([asdict(d) for d in docs])
        return
    for d in docs:
        number = f" {d.doc_number}" if d.doc_number else ""
        typer.echo(f"{d.doc_id}  {d.kind.value:<10} {d.file_name}  《{d.title}》{number}")
    typer.echo(f"{len(docs)} documents")


@docs_cli.command("show")
def docs_show(doc_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one document's metadata and chunks."""
    kb = bootstrap.build_knowledge(load_settings())
    doc = kb.get(doc_id)
    if doc is None:
        fail(say("no_document", doc_id=doc_id))
    chunks = kb.chunks(doc_id)
    if as_json:
        echo_json({"document": asdict(doc), "chunks": [asdict(c) for c in chunks]})
        return
    for key, value in asdict(doc).items():
        typer.echo(f"{key:>15}: {value}")
    for c in chunks:
        typer.echo(f"\n[{c.ordinal}] {c.section} {c.article or ''}\n{c.text}")


@docs_cli.command("remove")
def docs_remove(doc_id: str) -> None:
    """Remove a document and all its chunks from the library."""
    container = bootstrap.build(load_settings())
    try:
        with reporting():
            doc = container.desk.remove_document(container.console_admin, doc_id)
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
    with reporting():
        result = bootstrap.build_store(load_settings(), recover=False).check(repair=repair)
    if as_json:
        echo_json(result.as_dict())
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


@docs_cli.command("set")
def docs_set(
    doc_id: Annotated[str, typer.Argument(help="The document (see `qadesk docs list`).")],
    kind: Annotated[
        str | None, typer.Option(help="law, regulation, rule, notice, standard…")
    ] = None,
    doc_number: Annotated[str | None, typer.Option(help="文号 or 标准号; '-' clears it.")] = None,
    issuer: Annotated[str | None, typer.Option(help="发布机构; '-' clears it.")] = None,
    issued: Annotated[str | None, typer.Option(help=f"发布日期: {_DATE_HELP}")] = None,
    effective_from: Annotated[str | None, typer.Option(help=f"施行日期: {_DATE_HELP}")] = None,
    effective_until: Annotated[
        str | None, typer.Option(help=f"the last day it applies: {_DATE_HELP}")
    ] = None,
    repealed_on: Annotated[str | None, typer.Option(help=f"废止日期: {_DATE_HELP}")] = None,
    superseded_by: Annotated[list[str] | None, typer.Option(help=_REF_HELP)] = None,
    supersedes: Annotated[list[str] | None, typer.Option(help=_REF_HELP)] = None,
    source_url: Annotated[str | None, typer.Option(help="http(s) address; '-' clears it.")] = None,
    note: Annotated[
        str | None,
        typer.Option(help="What else a reader must know (e.g. 附件目录已被代替); '-' clears it."),
    ] = None,
    checked_on: Annotated[
        str | None, typer.Option(help=f"when these were checked against the source: {_DATE_HELP}")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Set a document's kind, number, dates and links; its status follows from them. FAQ
    entries resting on it are flagged for review when its status fields change."""
    values: dict[str, str | list[str] | None] = {
        "kind": kind,
        "doc_number": doc_number,
        "issuer": issuer,
        "date_issued": issued,
        "date_effective": effective_from,
        "date_until": effective_until,
        "date_repealed": repealed_on,
        "superseded_by": superseded_by,
        "supersedes": supersedes,
        "source_url": source_url,
        "checked_on": checked_on,
        "status_note": note,
    }
    container = bootstrap.build(load_settings())
    try:
        with reporting():
            doc, flagged = container.desk.set_document(container.console_admin, doc_id, values)
    except ValueError as exc:
        fail(say("bad_value", detail=exc))
    finally:
        container.close()
    status = status_of(doc, date.today()).value
    if as_json:
        record: dict[str, Any] = {"document": asdict(doc), "status": status, "flagged": flagged}
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{doc.doc_id} {doc.file_name}: {status}")
    if flagged:
        typer.echo(f"flagged for review: {', '.join(flagged)}")


@docs_cli.command("status")
def docs_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every document with its status today and the fields it is derived from."""
    kb = bootstrap.build_knowledge(load_settings())
    today = date.today()
    rows: list[dict[str, Any]] = [
        {
            "doc_id": d.doc_id,
            "file_name": d.file_name,
            "status": status_of(d, today).value,
            "effective_from": d.date_effective,
            "effective_until": d.date_until,
            "repealed_on": d.date_repealed,
            "superseded_by": list(d.superseded_by),
            "supersedes": list(d.supersedes),
            "checked_on": d.checked_on,
        }
        for d in kb.documents()
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        links = " ".join(f"→{r}" for r in row["superseded_by"])
        typer.echo(f"{row['doc_id']}  {row['status']:<10} {row['file_name']} {links}".rstrip())


_TABLE_FIELDS = {
    "effective_from": "date_effective",
    "effective_until": "date_until",
    "repealed_on": "date_repealed",
    "superseded_by": "superseded_by",
    "supersedes": "supersedes",
    "checked_on": "checked_on",
    "note": "status_note",
}


def apply_status_table(container: bootstrap.Container, directory: Path) -> int:
    """Fill the documents named in ``directory/STATUS.tsv`` with the values the table gives
    for fields they do not have yet (an admin's own values are never overwritten); how many
    documents changed."""
    from ingest.validity import STATUS_TABLE, read_status_table

    path = directory / STATUS_TABLE
    if not path.is_file():
        return 0
    changed = 0
    for file_name, row in read_status_table(path).items():
        doc = container.knowledge.find_by_file(file_name)
        if doc is None:
            continue
        values: dict[str, str | list[str] | None] = {}
        for column, value in row.items():
            name = _TABLE_FIELDS[column]
            if getattr(doc, name) in (None, ()):
                values[name] = (
                    value.split("|") if name in ("superseded_by", "supersedes") else value
                )
        if values:
            container.desk.set_document(container.console_admin, doc.doc_id, values)
            changed += 1
    return changed
