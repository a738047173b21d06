"""Broker password files and systemd credentials: found, stripped, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionedge.errors import ConfigError
from visionedge.service.credentials import read_password

SECRET = "s3cr3t-Ünïcode"


def test_password_from_a_path_strips_one_newline(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text(SECRET + "\n")
    s = read_password(str(f), env={})
    assert s is not None and s.reveal() == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in f"{s}"


def test_bare_name_is_looked_up_in_credentials_directory(tmp_path: Path) -> None:
    (tmp_path / "mqtt-password").write_text(SECRET)
    s = read_password("mqtt-password", env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert s is not None and s.reveal() == SECRET


def test_empty_name_means_no_password() -> None:
    assert read_password("", env={}) is None


@pytest.mark.parametrize("content", [b"", b"\n"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "pw"
    f.write_bytes(content)
    with pytest.raises(ConfigError, match="empty"):
        read_password(str(f), env={})


def test_missing_credential_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        read_password("mqtt-password", env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    msg = str(e.value)
    assert str(tmp_path / "mqtt-password") in msg and "LoadCredential" in msg
    assert e.value.exit_code == 3


def test_wrong_file_errors_never_contain_the_content(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_text(SECRET * 1000)
    with pytest.raises(ConfigError) as e:
        read_password(str(big), env={})
    assert SECRET not in str(e.value)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(ConfigError) as e2:
        read_password(str(binary), env={})
    assert SECRET not in str(e2.value)


def test_an_empty_systemd_credential_means_no_password(tmp_path: Path) -> None:
    # What the shipped units' SetCredential=mqtt-password:\n default hands over.
    (tmp_path / "mqtt-password").write_bytes(b"\n")
    assert read_password("mqtt-password", env={"CREDENTIALS_DIRECTORY": str(tmp_path)}) is None
