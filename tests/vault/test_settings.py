"""Settings read once from the environment: typed, and refused when a value is not understood."""

from __future__ import annotations

import ipaddress
import os

import pytest

from vault import InvalidSetting, Settings


def test_defaults_are_fair_to_a_person_and_trust_no_proxy():
    settings = Settings.from_env({})
    assert settings.sign_in_failures_per_user_and_address == 10
    assert settings.sign_in_failures_per_user == 100
    assert settings.trusted_proxies == ()
    assert settings.parsers == (os.cpu_count() or 1) and settings.parser_queue == 8


def test_sign_in_proxy_and_parser_settings_are_read():
    settings = Settings.from_env({
        "CASEVAULT_SIGN_IN_FAILURES_PER_USER_AND_ADDRESS": "5",
        "CASEVAULT_SIGN_IN_FAILURES_PER_USER": "50",
        "CASEVAULT_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16,2001:db8::/32",
        "CASEVAULT_PARSERS": "3",
        "CASEVAULT_PARSER_QUEUE": "0",
    })
    assert (settings.sign_in_failures_per_user_and_address, settings.sign_in_failures_per_user) == (5, 50)
    assert settings.trusted_proxies == tuple(ipaddress.ip_network(n) for n in
                                             ("10.0.0.5/32", "192.168.0.0/16", "2001:db8::/32"))
    assert (settings.parsers, settings.parser_queue) == (3, 0)
    assert Settings.from_env({"CASEVAULT_TRUSTED_PROXIES": ""}).trusted_proxies == ()


@pytest.mark.parametrize("variable, value, says", [
    ("CASEVAULT_SIGN_IN_FAILURES_PER_USER", "0", "at least 1"),
    ("CASEVAULT_SIGN_IN_FAILURES_PER_USER_AND_ADDRESS", "ten", "whole number"),
    ("CASEVAULT_TRUSTED_PROXIES", "proxy.example", "not an IP address or network"),
    ("CASEVAULT_TRUSTED_PROXIES", "10.0.0.1/24", "not an IP address or network"),  # host bits set: a typo?
    ("CASEVAULT_TRUSTED_PROXIES", "*", "not an IP address or network"),
    ("CASEVAULT_PARSERS", "0", "at least 1"),
    ("CASEVAULT_PARSER_QUEUE", "-1", "at least 0"),
    ("CASEVAULT_PARSER_QUEUE", "many", "whole number"),
])
def test_values_not_understood_are_refused(variable, value, says):
    with pytest.raises(InvalidSetting, match=says) as refused:
        Settings.from_env({variable: value})
    assert variable in str(refused.value)


def test_backups_go_beside_the_data_directory_unless_a_directory_is_set(tmp_path):
    settings = Settings.from_env({"CASEVAULT_DATA": str(tmp_path / "vault")})
    assert settings.resolved_backup_dir == (tmp_path / "vault-backups").resolve()
    chosen = Settings.from_env({"CASEVAULT_DATA": str(tmp_path / "vault"), "CASEVAULT_BACKUP_DIR": str(tmp_path / "b")})
    assert chosen.resolved_backup_dir == (tmp_path / "b").resolve()


@pytest.mark.parametrize("inside", ["", "backups", "a/b"])
def test_a_backup_directory_inside_the_data_directory_is_refused(tmp_path, inside):
    settings = Settings.from_env({"CASEVAULT_DATA": str(tmp_path / "vault"),
                                  "CASEVAULT_BACKUP_DIR": str(tmp_path / "vault" / inside)})
    with pytest.raises(InvalidSetting, match="CASEVAULT_BACKUP_DIR .* is inside the data directory"):
        settings.resolved_backup_dir
