"""Ingestion: file → clean text → metadata → structure-aware chunks → a document store.

Public entry points live in :mod:`ingest.pipeline`: ``IngestPipeline`` (``ingest_file``,
``ingest_paths``, ``remove``), ``parse_file`` (pure: one file to a ``ParsedDocument``) and
``preview`` (the dry-run JSON). Modules, in the order a file goes through them: ``readers``
(formats, encodings, refusals), ``cleaning`` / ``html_text`` / ``boilerplate`` / ``header``
(text), ``metadata`` / ``kinds`` / ``sources`` (what the document is), ``structure`` and
``chunking`` (how it is cut), ``parsing`` (the whole path for one file).
"""
