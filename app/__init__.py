"""Settings, the composition root, the CLI and the ASGI server."""
