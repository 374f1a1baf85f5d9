"""The application layer: the `casevault` command line now, the FastAPI app with issue 6.

Only this package imports click, FastAPI, Starlette or Jinja2; nothing imports it.
"""
