"""The `qadesk` command line, one package: ``main`` (the entry point; setting up, ingesting,
asking, serving), ``documents`` (``docs …``), ``tickets`` (``tickets|faq|experts …``,
``stats``), ``quality`` (``eval``, ``fit``), and ``common``: the settings and the one way every
command reports an error."""

from app.cli.main import cli, main

__all__ = ["cli", "main"]
