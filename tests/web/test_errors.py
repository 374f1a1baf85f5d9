"""Every error class of every package (keys, redaction, vault, search and web's own), found by
walking their modules wherever they are defined, answers a person: over HTTP a 4xx or a
deliberate 503 through the domain handler, in the CLI one line and exit 1 (EXIT_FAILED, bad
data or usage). Never the 500 of an unexpected error, never the CLI's exit 70 (EXIT_INTERNAL):
a new error class without a mapping fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from fastapi import FastAPI

from keys import KeyringError
from search._engine import _bulk
from search.errors import SearchError
from tests.web.cli.test_commands import MANIFEST, run  # noqa: F401 - run: the CLI fixture, a fresh vault
from vault import Unauthenticated
from vault.errors import NotFound, VaultError
from web import _errors, errors
from web.cli._exit import guard

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("keys", "redaction", "vault", "search", "web")
# Bases that no module raises itself (held by test_the_bases_are_never_raised_themselves)
BASES = {VaultError, KeyringError, SearchError}
# Control flow inside one module, never raised out of it (held by test_the_internal_signal_...)
INTERNAL = {_bulk.Unsupported}


def _error_classes() -> list[type[Exception]]:
    found: dict[str, type[Exception]] = {}
    for package in PACKAGES:
        root = importlib.import_module(package)
        modules = [root] + [importlib.import_module(m.name)
                            for m in pkgutil.walk_packages(root.__path__, f"{package}.")
                            if m.name != "web.__main__"]  # that one runs the command line
        for module in modules:
            for _, kind in inspect.getmembers(module, inspect.isclass):
                if issubclass(kind, Exception) and kind.__module__.split(".")[0] == package:
                    found[f"{kind.__module__}.{kind.__qualname__}"] = kind
    return [found[name] for name in sorted(found)]


ERRORS = [kind for kind in _error_classes() if kind not in BASES | INTERNAL]


def _instance(kind: type[Exception]) -> Exception:
    required = [p for name, p in inspect.signature(kind.__init__).parameters.items()
                if name != "self" and p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    return kind(*["INVALID_THING" if p.name == "code" else "x" for p in required])


def test_the_walk_finds_the_errors_of_every_package():
    names = {kind.__name__ for kind in ERRORS}
    assert {"InvalidAlias", "AlreadyDecided", "OverlappingRedactions", "IntegrityFailed", "KeyVersionRetired",
            "DuplicateDocument", "SessionEnded", "InvalidSetting", "QueryTooComplex", "IndexCorrupt",
            "TooManyAttempts"} <= names
    assert len(ERRORS) >= 35


@pytest.mark.parametrize("kind", ERRORS, ids=lambda kind: kind.__name__)
def test_every_domain_error_is_a_4xx_or_a_deliberate_503(kind):
    app = FastAPI()
    _errors.install(app)
    handler = next(app.exception_handlers[k] for k in kind.__mro__ if k in app.exception_handlers)
    status = errors.status_of(_instance(kind))
    assert handler is _errors._domain, f"{kind.__module__}.{kind.__name__} reaches {handler.__name__}, not _domain"
    assert 400 <= status < 500 or status == 503, f"{kind.__module__}.{kind.__name__} answers {status}"


@pytest.mark.parametrize("kind", ERRORS, ids=lambda kind: kind.__name__)
def test_every_domain_error_is_one_line_and_exit_1_in_the_cli(kind, capsys):
    def command() -> None:
        raise _instance(kind)

    with pytest.raises(SystemExit) as exited:
        guard(command)()
    said = capsys.readouterr().err
    assert exited.value.code == errors.EXIT_FAILED, f"{kind.__module__}.{kind.__name__} exits {exited.value.code}"
    assert said.startswith("error: ") and "unexpected" not in said and len(said.strip().splitlines()) == 1, said


def test_an_unexpected_error_is_exit_70_with_its_type_only(capsys):
    def command() -> None:
        raise ZeroDivisionError("a detail that must not show")

    with pytest.raises(SystemExit) as exited:
        guard(command)()
    assert exited.value.code == errors.EXIT_INTERNAL
    assert capsys.readouterr().err == "error: unexpected ZeroDivisionError; nothing half-written was kept\n"


def test_every_rule_names_a_class():
    for name in [*errors.STATUS, *errors.CODE_IN_TEXT]:
        module, _, attribute = name.rpartition(".")
        kind = getattr(importlib.import_module(module), attribute, None)
        assert isinstance(kind, type) and issubclass(kind, Exception), f"{name} names no error class"


def test_unauthenticated_is_401_by_its_own_rule_not_by_the_order_of_the_rules(monkeypatch):
    """An unknown credential is a NotFound to the vault and a 401 to the caller."""
    assert issubclass(Unauthenticated, NotFound) and "vault.Unauthenticated" in errors.STATUS
    before = {kind: errors.status_of(_instance(kind)) for kind in ERRORS}
    assert before[Unauthenticated] == 401
    monkeypatch.setattr(errors, "STATUS", dict(reversed(list(errors.STATUS.items()))))
    assert {kind: errors.status_of(_instance(kind)) for kind in ERRORS} == before


def test_the_bases_are_never_raised_themselves():
    raised = [f"{path.relative_to(ROOT)}: raise {base.__name__}("
              for package in PACKAGES for path in (ROOT / package).rglob("*.py")
              for base in BASES if f"raise {base.__name__}(" in path.read_text()]
    assert not raised, raised


def test_the_internal_signal_never_leaves_search():
    assert "except _bulk.Unsupported" in (ROOT / "search" / "_engine" / "_answer.py").read_text()


def test_an_alias_without_a_letter_is_exit_1_of_the_cli_not_an_internal_error(run):
    """InvalidAlias (a RedactionError) ended the CLI with exit 70 and "unexpected InvalidAlias"."""
    result = run("identity", "add", "--case", MANIFEST["case"], "--name", "Hadrien Quillon", "--alias", "!!!",
                 check=False)
    assert result.returncode == errors.EXIT_FAILED, (result.returncode, result.stderr)
    assert "alias needs at least one letter or digit" in result.stderr and "unexpected" not in result.stderr
