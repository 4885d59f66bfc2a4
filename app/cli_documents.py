"""`qadesk docs set` (what ingestion could not know about a document) and `qadesk docs status`
(every document with its status today)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from app import bootstrap
from app.settings import Settings
from core.document_status import status_of
from core.errors import QadeskError

_DATE_HELP = "YYYY-MM-DD (or 2024年7月1日); '-' clears it."
_REF_HELP = "A doc id or file name of the library, or the 文号/标准号 or 《title》 of a document outside it (repeatable; '-' clears)."


def register(docs_cli: typer.Typer) -> None:
    docs_cli.command("set")(docs_set)
    docs_cli.command("status")(docs_status)


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
    settings = Settings()
    bootstrap.configure_logging(settings.log_level)
    container = bootstrap.build(settings)
    try:
        doc, flagged = container.desk.set_document(container.console_admin, doc_id, values)
    except (QadeskError, ValueError) as exc:
        typer.echo(f"error: {getattr(exc, 'detail', None) or exc}", err=True)
        raise typer.Exit(1) from None
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


def docs_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every document with its status today and the fields it is derived from."""
    settings = Settings()
    bootstrap.configure_logging(settings.log_level)
    kb = bootstrap.build_knowledge(settings)
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
