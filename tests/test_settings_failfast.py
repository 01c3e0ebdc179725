"""Production settings refuse to start without the values that have no safe default.

Each case runs in a fresh interpreter: settings are read once per process.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SETUP = (
    "import django, os; "
    "os.environ['DJANGO_SETTINGS_MODULE'] = 'volunteer_platform.settings'; "
    "django.setup()"
)


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment (DATABASE_URL included) with DEBUG off and no production
    values, plus ``values``."""
    env = dict(os.environ)
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env["DEBUG"] = "0"
    env.update(values)
    return env


def error_line(result: subprocess.CompletedProcess) -> str:
    """The last line of the traceback: the exception and its message."""
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture(autouse=True)
def _no_env_file():
    # settings.py fills missing variables from .env, which would supply what these tests remove.
    if (PROJECT_ROOT / ".env").exists():
        pytest.skip(".env exists and would supply SECRET_KEY/ALLOWED_HOSTS; move it aside")


def test_missing_secret_key_fails_fast():
    result = run([sys.executable, "-c", SETUP], clean_env())

    assert result.returncode != 0, describe(result)
    assert error_line(result).startswith(
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY"
    ), describe(result)


def test_missing_allowed_hosts_fails_fast():
    result = run([sys.executable, "-c", SETUP], clean_env(SECRET_KEY=secrets.token_urlsafe(50)))

    assert result.returncode != 0, describe(result)
    assert error_line(result).startswith(
        "django.core.exceptions.ImproperlyConfigured: ALLOWED_HOSTS"
    ), describe(result)


def test_starts_with_secret_key_and_allowed_hosts():
    env = clean_env(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="volunteer.example.org")
    result = run([sys.executable, "-c", SETUP], env)

    assert result.returncode == 0, describe(result)


@pytest.mark.parametrize("debug", ["1", "true"])
def test_debug_runs_without_production_values(debug):
    result = run([sys.executable, "-c", SETUP], clean_env(DEBUG=debug))

    assert result.returncode == 0, describe(result)


PRODUCTION = {
    "ALLOWED_HOSTS": "volunteer.example.org",
    "FIELD_ENCRYPTION_KEYS": "Cq1mFqyH0m3o0bq6ZQ1zqXcX6mJ0v3sQG1s6o0l2bWc=",
}
DEPLOY_CHECK = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]


def test_deploy_checks_pass_with_production_values():
    env = clean_env(
        SECRET_KEY=secrets.token_urlsafe(50),
        BLIND_INDEX_KEY=secrets.token_urlsafe(50),
        **PRODUCTION,
    )
    result = run(DEPLOY_CHECK, env)

    assert result.returncode == 0, describe(result)


def test_deploy_check_warns_when_protected_data_hangs_on_secret_key():
    env = clean_env(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="volunteer.example.org")
    env.pop("FIELD_ENCRYPTION_KEYS", None)
    env.pop("BLIND_INDEX_KEY", None)
    result = run(DEPLOY_CHECK, env)

    assert result.returncode != 0, describe(result)
    assert "platform.W001" in result.stderr and "platform.W002" in result.stderr, describe(result)


def test_manage_py_explains_a_missing_secret_key_without_a_traceback():
    result = run([sys.executable, "manage.py", "check"], clean_env())

    assert result.returncode == 2, describe(result)
    assert result.stderr.startswith("SECRET_KEY must be set when DEBUG is off"), describe(result)
    assert "Traceback" not in result.stderr and "DEBUG=1" in result.stderr, describe(result)
