"""The application layer: the `casevault` command line, the FastAPI app and its JSON API.

Only this package imports click, FastAPI, Starlette, uvicorn or Jinja2; nothing imports it.
``create_app`` is imported when first asked for, so the command line (``web.cli``) loads none of
the web stack for a command that does not serve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web._app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from web._app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
