"""The application layer: the `casevault` command line, the FastAPI app and its JSON API.

Only this package imports click, FastAPI, Starlette, uvicorn or Jinja2; nothing imports it.
"""

from web._app import create_app

__all__ = ["create_app"]
