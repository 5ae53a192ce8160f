"""A production start refuses unsafe settings; check-deploy names each with its fix."""

import os
import subprocess
import sys

import pytest
from celery import _state as celery_state
from flask_migrate import upgrade

from tests.conftest import create_pg_database
from tests.support.worker import ROOT

SAFE = {
    "PROMKM_ENV": "production",
    "SECRET_KEY": "a" * 64,
    "QR_SIGNING_KEYS": "b" * 64,
    "PUBLIC_BASE_URL": "https://promkm.madiunkota.go.id",
    "COOKIE_SECURE": "1",
    "FLASK_DEBUG": None,
}


@pytest.fixture
def production_env(postgres_url, redis_url, monkeypatch, tmp_path):
    """A safe production environment on a fresh PostgreSQL database; tests spoil one part."""
    database_url, drop = create_pg_database()
    env = {
        **SAFE,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PROMKM_INSTANCE": str(tmp_path),
        "PROMKM_STORAGE": str(tmp_path / "storage"),
    }
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    yield env
    drop()


def _apply(monkeypatch, changes: dict) -> None:
    for key, value in changes.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


def start_web():
    """create_app as gunicorn's wsgi.py calls it; the problems it refuses, or []."""
    from promkm_qr import create_app
    from promkm_qr.deployment import UnsafeDeployment
    from promkm_qr.extensions import db, limiter

    saved_limiter = dict(limiter.__dict__)
    saved_celery = (celery_state.default_app, celery_state._tls.current_app)
    try:
        application = create_app()
    except UnsafeDeployment as exc:
        return exc.problems
    else:
        with application.app_context():
            db.engine.dispose()
        return []
    finally:
        limiter.__dict__.clear()
        limiter.__dict__.update(saved_limiter)
        celery_state.default_app, celery_state._tls.current_app = saved_celery


def test_safe_production_start(production_env):
    assert start_web() == []


UNSAFE = [
    ("SECRET_KEY", {"SECRET_KEY": None}, "unset"),
    ("SECRET_KEY", {"SECRET_KEY": "changeme"}, "only 8 characters"),
    ("QR_SIGNING_KEYS", {"QR_SIGNING_KEYS": None}, "unset"),
    ("PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": None}, "unset"),
    ("PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "http://promkm.madiunkota.go.id"}, "not https"),
    ("PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "https://127.0.0.1:5000"}, "loopback"),
    ("PUBLIC_BASE_URL", {"PUBLIC_BASE_URL": "https://localhost"}, "loopback"),
    ("COOKIE_SECURE", {"COOKIE_SECURE": "0"}, "off"),
    ("DATABASE_URL", {"DATABASE_URL": "sqlite:////tmp/promkm-prod.sqlite"}, "SQLite"),
    ("REDIS_URL", {"REDIS_URL": None}, "unset"),
    ("FLASK_DEBUG", {"FLASK_DEBUG": "1"}, "debug is on"),
]


@pytest.mark.parametrize(("setting", "changes", "problem"), UNSAFE)
def test_each_unsafe_setting_refuses_the_web_start(
    production_env, monkeypatch, setting, changes, problem
):
    _apply(monkeypatch, changes)
    found = start_web()
    assert [p.setting for p in found] == [setting]
    assert problem in found[0].problem and found[0].fix


def test_demo_accounts_and_passwords_refuse_the_start(production_env):
    from promkm_qr import reference
    from promkm_qr.demo import build_demo
    from promkm_qr.extensions import db
    from tests.faults.conftest import other_app

    with other_app({}) as application, application.app_context():
        upgrade()
        reference.load_regions(application.config["REGIONS_CSV"])
        reference.seed_defaults()
        build_demo(stalls=3, asn=3, months=1, seed=1)
        db.session.remove()
    problems = [str(p) for p in start_web()]
    assert len(problems) == 2
    assert "3 demo accounts" in problems[0]
    assert "accounts with the demo password" in problems[1]


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.run(
        args, cwd=ROOT, env=full, capture_output=True, text=True, timeout=120, check=False
    )


FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _problems(result: subprocess.CompletedProcess) -> list[str]:
    """check-deploy's PROBLEM lines (stderr also carries the JSON log lines of production)."""
    return [line for line in result.stderr.splitlines() if line.startswith("PROBLEM")]


def test_check_deploy_names_every_problem_and_exits_nonzero(production_env):
    unsafe = {
        "SECRET_KEY": None,
        "QR_SIGNING_KEYS": None,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "COOKIE_SECURE": "0",
        "REDIS_URL": None,
        "FLASK_DEBUG": "1",
    }
    result = _run([*FLASK, "check-deploy"], {**production_env, **unsafe})
    assert result.returncode == 1
    named = [line.split(":")[0] for line in _problems(result)]
    assert named == [
        "PROBLEM SECRET_KEY",
        "PROBLEM QR_SIGNING_KEYS",
        "PROBLEM PUBLIC_BASE_URL",
        "PROBLEM COOKIE_SECURE",
        "PROBLEM REDIS_URL",
        "PROBLEM FLASK_DEBUG",
    ]
    assert all("Fix: " in line for line in _problems(result))


def test_check_deploy_compares_with_a_reference_machine(production_env):
    ok = _run([*FLASK, "check-deploy"], production_env)
    assert ok.returncode == 0, ok.stderr
    reference = ok.stdout.splitlines()[0].removeprefix("fingerprint: ")
    assert "a" * 64 not in ok.stdout  # fingerprints, never the keys

    same = _run([*FLASK, "check-deploy", "--reference", reference], production_env)
    assert same.returncode == 0, same.stderr
    other = {**production_env, "QR_SIGNING_KEYS": "c" * 64, "PROMKM_STORAGE": "/srv/elsewhere"}
    differs = _run([*FLASK, "check-deploy", "--reference", reference], other)
    assert differs.returncode == 1
    assert _problems(differs) == [
        "PROBLEM QR_SIGNING_KEYS: differs from the reference machine. "
        "Fix: copy QR_SIGNING_KEYS from the reference machine's environment.",
        "PROBLEM PROMKM_STORAGE: differs from the reference machine. "
        "Fix: copy PROMKM_STORAGE from the reference machine's environment.",
    ]


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_refuse_an_unsafe_production_start(production_env, command):
    env = {**production_env, "SECRET_KEY": None, "COOKIE_SECURE": "0"}
    result = _run([sys.executable, "-m", "celery", "-A", "celery_worker", command], env)
    assert result.returncode == 1
    assert "PROMKM_ENV=production refuses to start (2 problems" in result.stderr
    assert "SECRET_KEY: unset" in result.stderr and "COOKIE_SECURE: off" in result.stderr


def test_production_setup_never_loads_demo_data(production_env):
    refused = _run([*FLASK, "setup", "--demo"], production_env)
    assert refused.returncode != 0
    assert "never loads demo data" in refused.stderr
    done = _run([*FLASK, "setup"], production_env)  # no demo unless asked
    assert done.returncode == 0, done.stderr
    assert _run([*FLASK, "check-deploy"], production_env).returncode == 0


def test_without_production_nothing_is_refused(monkeypatch, tmp_path):
    for key in ("PROMKM_ENV", "SECRET_KEY", "QR_SIGNING_KEYS", "PUBLIC_BASE_URL", "REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PROMKM_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.sqlite'}")
    assert start_web() == []
    assert (tmp_path / "secret_key").exists()  # `make run` keeps its generated key
