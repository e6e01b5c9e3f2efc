"""Gunicorn settings for samrad's web workers:
``gunicorn -c python:samrad.gunicorn_conf --workers 3 --bind 127.0.0.1:8000 "samrad:create_app()"``.

Each worker builds the app itself (no ``--preload``: the scheduler and the database engine must not be
shared across a fork). Once it has, about two hundred thousand objects — modules, templates, the ORM's
mappings — live as long as the worker does, and Python's collector would walk them all in every full
collection: a request that happened to trigger one waited ~150 ms (docs/performance.md). Freezing them
moves them out of the collector's way; garbage made by requests is collected as before.
"""

from __future__ import annotations

import gc


def post_worker_init(_worker) -> None:
    gc.collect()
    gc.freeze()
