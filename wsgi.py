"""WSGI entry point: ``gunicorn -w 3 -b 127.0.0.1:8000 wsgi:app``."""

import sys

from samrad import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:  # a clear message for the deployer, not a traceback
    print(f"samrad: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
