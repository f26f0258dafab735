"""The response policy is read from a TOML file; a bad file is a clear ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.advisories.policy import POLICY_ENV, Policy, load_policy
from bastion.core.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path) -> None:
    assert load_policy(tmp_path, environ={}) == Policy()
    assert Policy().ack_hours == {"high": 48}
    assert Policy().remediation_days == {"critical": 14, "high": 14}


def test_policy_file_in_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "advisories-policy.toml").write_text(
        "ack_hours = { high = 24, medium = 72 }\nremediation_days = { high = 7 }\n",
        encoding="utf-8",
    )
    policy = load_policy(tmp_path, environ={})
    assert policy.ack_hours == {"high": 24, "medium": 72}
    assert policy.remediation_days == {"high": 7}


def test_bad_policy_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("ack_hours = 'soon'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p\.toml: invalid advisories policy"):
        load_policy(None, environ={POLICY_ENV: str(path)})
    with pytest.raises(ConfigError, match="not found"):
        load_policy(None, environ={POLICY_ENV: str(tmp_path / "missing.toml")})
