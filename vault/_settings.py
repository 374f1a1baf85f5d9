"""Settings, read once from the environment into one frozen object."""

from __future__ import annotations

import codecs
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from keys import WeakPassphrase, check_passphrase
from vault._ingest._limits import MiB, Limits
from vault.errors import InvalidSetting

_PREFIX = "CASEVAULT_"


def _whole_number(name: str, value: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidSetting(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise InvalidSetting(f"{name} must be at least {minimum}")
    return number


def _positive_int(name: str, value: str) -> int:
    return _whole_number(name, value, minimum=1)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted_proxies(value: str) -> tuple[Network, ...]:
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise InvalidSetting(
                f"CASEVAULT_TRUSTED_PROXIES: {item!r} is not an IP address or network (such as 10.0.0.5 or "
                "10.0.0.0/24); list the addresses of your reverse proxies, separated by commas"
            ) from None
    return tuple(networks)


def _database_url(value: str) -> str:
    if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise InvalidSetting(
            "CASEVAULT_DATABASE_URL must be a sqlite:/// or postgresql:// URL"
        )
    return value


def _legacy_encoding(value: str) -> str | None:
    if value.lower() == "none":
        return None
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise InvalidSetting(
            f"CASEVAULT_LEGACY_ENCODING {value!r} is not an encoding Python knows (try cp1252 or none)"
        ) from None


def _flag(name: str):  # type: ignore[no-untyped-def]
    def parse(value: str) -> bool:
        if value.lower() in ("true", "1", "yes", "on"):
            return True
        if value.lower() in ("false", "0", "no", "off"):
            return False
        raise InvalidSetting(f"CASEVAULT_{name} is true or false, not {value!r}")
    return parse


def _passphrase(name: str):  # type: ignore[no-untyped-def]
    def parse(value: str) -> str:
        try:
            check_passphrase(value)
        except WeakPassphrase as error:
            raise InvalidSetting(f"CASEVAULT_{name}: {error}") from None
        return value
    return parse


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything casevault is configured by. Tests build it directly; the CLI uses from_env."""

    data_dir: Path = Path("casevault-data")
    # where the server writes the backups admins ask for; default: beside the data directory,
    # never inside it (a restore needs an empty target, and a backup would hold its elders)
    backup_dir: Path | None = None
    database_url: str | None = None  # default: SQLite inside data_dir
    passphrase: str | None = field(default=None, repr=False)
    # a file of SLIP-39 shares, one a line, that unseals a vault split by `keys split`
    unseal_shares: Path | None = None
    # the passphrase `keys passphrase` seals the root key under (else asked twice on a terminal)
    new_passphrase: str | None = field(default=None, repr=False)
    legacy_encoding: str | None = "cp1252"
    limits: Limits = field(default_factory=Limits)
    # the web pages: reviewers and admins give a TOTP code at sign-in; session cookies are
    # __Host- and Secure. Only the demo, on plain-http loopback, turns these off.
    second_factor: bool = True
    secure_cookies: bool = True
    # failed sign-ins allowed before 429: per user name from one address (a person mistyping; an
    # attacker behind the address of others), within 15 minutes, and per user name from anywhere
    # (distributed guessing), within an hour. Nothing is counted per address alone: one attacker
    # behind a NAT or a proxy would lock out everyone behind it.
    sign_in_failures_per_user_and_address: int = 10
    sign_in_failures_per_user: int = 100
    # reverse proxies whose X-Forwarded-For names the client; empty: the peer is the client
    trusted_proxies: tuple[Network, ...] = ()
    # sandboxed parsers (PDF, DOCX, HTML) running at once, and uploads waiting for one; past
    # that an upload is refused with 503. A waiting upload holds a server thread and its file.
    parsers: int = field(default_factory=lambda: os.cpu_count() or 1)
    parser_queue: int = 8

    # name -> (attribute, parser); every CASEVAULT_ variable not listed here is refused.
    _ENV = {
        "DATA": ("data_dir", Path),
        "BACKUP_DIR": ("backup_dir", Path),
        "DATABASE_URL": ("database_url", _database_url),
        "PASSPHRASE": ("passphrase", _passphrase("PASSPHRASE")),
        "UNSEAL_SHARES": ("unseal_shares", Path),
        "NEW_PASSPHRASE": ("new_passphrase", _passphrase("NEW_PASSPHRASE")),
        "LEGACY_ENCODING": ("legacy_encoding", _legacy_encoding),
        "SECOND_FACTOR": ("second_factor", _flag("SECOND_FACTOR")),
        "SECURE_COOKIES": ("secure_cookies", _flag("SECURE_COOKIES")),
        "SIGN_IN_FAILURES_PER_USER_AND_ADDRESS": (
            "sign_in_failures_per_user_and_address",
            lambda v: _positive_int("CASEVAULT_SIGN_IN_FAILURES_PER_USER_AND_ADDRESS", v)),
        "SIGN_IN_FAILURES_PER_USER": (
            "sign_in_failures_per_user", lambda v: _positive_int("CASEVAULT_SIGN_IN_FAILURES_PER_USER", v)),
        "TRUSTED_PROXIES": ("trusted_proxies", _trusted_proxies),
        "PARSERS": ("parsers", lambda v: _positive_int("CASEVAULT_PARSERS", v)),
        "PARSER_QUEUE": ("parser_queue", lambda v: _whole_number("CASEVAULT_PARSER_QUEUE", v)),
    }
    _LIMITS_ENV = {
        "MAX_UPLOAD_MB": ("max_file_bytes", lambda n, v: _positive_int(n, v) * MiB),
        "MAX_PAGES": ("max_pages", _positive_int),
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, object] = {}
        limits: dict[str, object] = {}
        for key, raw in environ.items():
            if not key.startswith(_PREFIX) or key.startswith("CASEVAULT_TEST_"):
                continue
            name = key.removeprefix(_PREFIX)
            if name in cls._ENV:
                attribute, parse = cls._ENV[name]
                values[attribute] = parse(raw)
            elif name in cls._LIMITS_ENV:
                attribute, parse = cls._LIMITS_ENV[name]
                limits[attribute] = parse(key, raw)
            else:
                known = ", ".join(_PREFIX + n for n in [*cls._ENV, *cls._LIMITS_ENV])
                raise InvalidSetting(f"unknown setting {key}; known settings are {known}")
        if limits:
            values["limits"] = Limits(**limits)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'casevault.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def resolved_backup_dir(self) -> Path:
        """``backup_dir``, else ``<data_dir>-backups`` beside the data directory; InvalidSetting
        when it is the data directory or inside it."""
        data = self.data_dir.resolve()
        if self.backup_dir is None and not data.name:
            raise InvalidSetting("CASEVAULT_DATA is the root directory: set CASEVAULT_BACKUP_DIR")
        chosen = self.backup_dir.resolve() if self.backup_dir else data.with_name(f"{data.name}-backups")
        if chosen.is_relative_to(data):
            raise InvalidSetting(f"CASEVAULT_BACKUP_DIR ({chosen}) is inside the data directory ({data}); "
                                 "choose a directory outside it (a restore needs an empty data directory)")
        return chosen
