"""``accountrisk serve``: the scorer over HTTP (FastAPI + uvicorn, the ``serve`` extra).

:func:`~.app.create_app` builds the application from a :class:`~.app.ServiceConfig`; the
command in :mod:`accountrisk.plugin._serve_command` runs it under uvicorn. Nothing here is
imported by ``import accountrisk.plugin``: FastAPI is loaded only when a service is built.
"""
