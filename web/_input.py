"""Text a request carries must be text: no NUL, no lone UTF-16 surrogate, in any place.

JSON may spell a lone surrogate (``"\\ud800"``) and a NUL (``"\\u0000"``), and a URL a NUL
(``%00``). Python keeps both in a ``str``, and they fail far from the request: a surrogate cannot
be encoded to UTF-8 (for a digest, a ciphertext, the index), PostgreSQL refuses a NUL in a text
parameter. Each would be a 500; here they are a 400 that names the place, before a route runs.
File names are left alone: an uploaded file's name is only ever stored encrypted, as bytes.
"""

from __future__ import annotations

import re

from fastapi import Request

from vault.errors import InvalidInput

MAX_POSITION = 2**63 - 1  # the largest value of a 64-bit column (audit positions)
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def check_text(where: str, value: str) -> str:
    """``value``, or InvalidInput naming ``where`` if it holds a NUL or a lone surrogate."""
    if _NOT_TEXT.search(value):
        raise InvalidInput(f"{where} holds a NUL or a lone surrogate (U+D800-U+DFFF), which is not text; "
                           "send valid Unicode without NUL characters")
    return value


def _check_json(where: str, value: object) -> None:
    if isinstance(value, str):
        check_text(where, value)
    elif isinstance(value, list):
        for item in value:
            _check_json(where, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(f"a field name in {where}", key)
            _check_json(f"{where}.{key}" if where != "the body" else key, item)


async def plain_text(request: Request) -> None:
    """A dependency of every route: the path's parameters, the query and a JSON body hold text."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(name, value)
    for name, value in request.query_params.multi_items():
        check_text(name, value)
    # Only a route with a body model has its body read (and parsed) by FastAPI already; an upload
    # streams its body past its size limit and must not be read into memory here.
    if getattr(request.scope.get("route"), "body_field", None) is not None:
        try:
            body = await request.json()
        except ValueError:
            return  # not JSON: the route's validation answers that
        _check_json("the body", body)
