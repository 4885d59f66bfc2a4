"""`qadesk eval` and `qadesk fit`: measuring the desk's answers and fitting its answering model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app import bootstrap
from app.cli.common import fail, load_settings, say

FileList = Annotated[list[Path], typer.Argument(help="Question files (JSON lines).")]


def _check(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(say("no_such_file", files="、".join(missing)))


def _print(summary: dict[str, Any], title: str) -> None:
    typer.echo(f"== {title}")
    for key, value in summary.items():
        if isinstance(value, dict):  # several splits: mean (min–max)
            shown = f"{value['mean']:.3f} ({value['min']:.3f}–{value['max']:.3f})"
        else:
            shown = f"{value:.3f}" if isinstance(value, float) else value
        typer.echo(f"{key:>45}: {shown}")


def _parts(report: Any, files: int) -> dict[str, Any]:
    from app import evaluation

    return {"all": report} | (evaluation.by_file(report) if files > 1 else {})


def evaluate(
    files: FileList,
    cv: Annotated[
        int, typer.Option("--cv", help="Cross-validate with K folds (fit on K-1, score the rest).")
    ] = 0,
    repeats: Annotated[
        int,
        typer.Option(
            "--repeats", help="With --cv: this many fold assignments; figures as mean (min–max)."
        ),
    ] = 1,
    also_fit: Annotated[
        list[Path] | None,
        typer.Option("--also-fit", help="With --cv: more files to fit on (never scored)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    failures: Annotated[bool, typer.Option(help="List the questions the desk got wrong.")] = False,
) -> None:
    """Report answered rate, doc@1, hit@5, escalations and latency, per file and in all."""
    from app import evaluation

    _check([*files, *(also_fit or [])])
    if cv == 1 or cv < 0:
        fail(say("cv_folds"), 2)
    if repeats < 1 or (repeats > 1 and not cv):
        fail(say("repeats_need_cv"), 2)
    kb = bootstrap.build_knowledge(load_settings())
    kb.answer("预热")  # load the model and indexes before timing
    items = evaluation.read_files(files)
    if cv:
        scored = {p.resolve() for p in files}
        extra = evaluation.read_files([p for p in also_fit or [] if p.resolve() not in scored])
        reports = evaluation.cross_validate_repeated(
            kb, items, cv, repeats=repeats, extra=extra, progress=lambda m: typer.echo(m, err=True)
        )
    else:
        reports = [evaluation.run(items, kb.answer)]
    report = reports[0]
    summaries = {
        name: evaluation.spread([_parts(r, len(files))[name].summary() for r in reports])
        if repeats > 1
        else part.summary()
        for name, part in _parts(report, len(files)).items()
    }
    if as_json:
        data: dict[str, Any] = {"cv": cv, "repeats": repeats, "figures": summaries}
        if failures:
            data["failures"] = report.failures()
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    for name, summary in summaries.items():
        how = f" (cross-validated, {cv} folds" + (f" × {repeats} splits)" if repeats > 1 else ")")
        _print(summary, f"{name}{how if cv else ''}")
    if failures:
        for row in report.failures():
            typer.echo(json.dumps(row, ensure_ascii=False))


def fit_model(
    files: FileList,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the model (default: the shipped model file)."),
    ] = None,
) -> None:
    """Fit the ranking, the domain model and the decision on labelled question files."""
    from importlib import resources

    from app import evaluation
    from knowledge import models
    from knowledge.fitting import fit

    _check(files)
    kb = bootstrap.build_knowledge(load_settings())
    items = evaluation.read_files(files)
    typer.echo(f"retrieval for {len(items)} questions", err=True)
    examples = evaluation.examples(items, evaluation.prepare_all(kb, items))
    info = {"files": [p.name for p in files], "embedding_model": kb.embedder_id}
    model = fit(examples, info=info)
    target = out or Path(str(resources.files("knowledge").joinpath("data", models.MODEL_FILE)))
    model.save(target)
    typer.echo(
        f"fitted on {len(examples)} questions: threshold {model.threshold}, "
        f"{len(model.domain.ngrams)} domain n-grams → {target}"
    )


def register(cli: typer.Typer) -> None:
    cli.command("eval")(evaluate)
    cli.command("fit")(fit_model)
