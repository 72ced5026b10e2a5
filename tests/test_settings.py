"""Settings come from the environment; production settings pass Django's deployment checks."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )


def test_prod_settings_pass_check_deploy(tmp_path: Path) -> None:
    env = {
        "ZONGZHI_ENV": "prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "zongzhi.example.cn",
        "ZONGZHI_VAR_DIR": str(tmp_path),
        "ZONGZHI_DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ZONGZHI_AUDIT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ZONGZHI_AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    without_key = manage({**env, "ZONGZHI_DATA_KEY": ""}, "check", "--deploy", "--fail-level", "WARNING")
    assert without_key.returncode != 0 and "ZONGZHI_DATA_KEY" in without_key.stderr + without_key.stdout


def test_prod_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {"ZONGZHI_ENV": "prod", "SECRET_KEY": "", "ZONGZHI_VAR_DIR": str(tmp_path)}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_prod_refuses_demo_data(tmp_path: Path) -> None:
    env = {
        "ZONGZHI_ENV": "prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "x",
        "ZONGZHI_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
    }
    result = manage(env, "seed_demo", "--scale", "small")
    assert result.returncode != 0 and "生产环境" in result.stderr


def test_dev_secret_key_is_kept_outside_the_code(tmp_path: Path) -> None:
    result = manage({"ZONGZHI_VAR_DIR": str(tmp_path), "SECRET_KEY": ""}, "check")
    assert result.returncode == 0, result.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50 and key not in (ROOT / "zongzhi" / "settings.py").read_text()


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("WAL is a SQLite setting; this run is on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
