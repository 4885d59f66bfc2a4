"""The web console for experts and admins: Starlette routes, Jinja2 templates, vendored htmx.

An adapter like ``bot/``: it turns a request into one ``desk`` call and renders the result.
``web.app.build_console`` builds the ASGI app ``qadesk serve`` mounts at ``/console``.
"""
