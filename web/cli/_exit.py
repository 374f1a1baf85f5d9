"""How a command ends when something fails: one line on stderr and an exit code, never a trace.

The exit code and the message come from web.errors, the table the API and the pages read too:
an error with a rule there is exit 1 with its message (and the command line's hint), anything
else is exit 70 with its type only.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from web.cli._hints import with_hints
from web.errors import EXIT_FAILED, EXIT_INTERNAL, answer_of


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def guard(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn errors into one line on stderr and a non-zero exit."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            fail("interrupted; nothing half-written was kept")
        except BrokenPipeError:  # `casevault show ... | head`: the reader left, which is fine
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_FAILED)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as error:  # noqa: BLE001 - the last line of defence: no trace, no data
            answer = answer_of(error)
            if answer is None:
                fail(f"unexpected {type(error).__name__}; nothing half-written was kept", EXIT_INTERNAL)
            fail(with_hints(answer.text, error))

    return wrapper
