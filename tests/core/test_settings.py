from __future__ import annotations

from pathlib import Path

import pytest

from bastion.core import ConfigError, load_settings


def test_defaults_put_everything_under_dot_bastion(tmp_path: Path) -> None:
    settings = load_settings(environ={"BASTION_CONFIG": str(tmp_path / "none.toml")})
    assert settings.data_dir == Path(".bastion")
    assert settings.db_url == "sqlite:///.bastion/bastion.db"
    assert settings.archive_dir == Path(".bastion/archive")
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8000)


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bastion.toml"
    config.write_text('[bastion]\ndata_dir = "/srv/bastion"\nweb_port = 9000\n')
    settings = load_settings(config, environ={"BASTION_WEB_PORT": "9100"})
    assert settings.data_dir == Path("/srv/bastion")
    assert settings.web_port == 9100


def test_bad_port_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="web_port"):
        load_settings(environ={"BASTION_CONFIG": str(tmp_path / "n.toml"), "BASTION_WEB_PORT": "x"})


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bastion.toml"
    config.write_text("[bastion\n")
    with pytest.raises(ConfigError, match=r"bastion\.toml: not valid TOML"):
        load_settings(config, environ={})
