"""Every setting has a type: environment text is coerced to it, or start-up is refused."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest

from session_counter import create_app
from session_counter.config import DEFAULTS, setting_names, setting_type
from session_counter.servers.harness import clean_environ
from session_counter.startup_checks import StartupError

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def env_app(tmp_path, monkeypatch):
    """Build an app from the given SESSION_COUNTER_* variables (and nothing else of ours)."""
    for key in list(os.environ):
        if key.startswith("SESSION_COUNTER_"):
            monkeypatch.delenv(key)

    def build(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(f"SESSION_COUNTER_{name}", value)
        return create_app(instance_path=str(tmp_path / "instance"))

    return build


def test_a_numeric_secret_key_is_a_string(env_app):
    app = env_app(SECRET_KEY="12345678")  # the manager strategy encodes it at start-up
    assert app.secret_key == "12345678"
    answer = app.test_client().post("/inc", headers={"Accept": "application/json"})
    assert answer.json["counter"] == 1


@pytest.mark.parametrize("name, text, value", [
    ("SESSION_LOCK", "false", False),
    ("SESSION_LOCK", "0", False),
    ("SESSION_LOCK", "No", False),
    ("SESSION_LOCK", "true", True),
    ("SESSION_COOKIE_SECURE", "1", True),
    ("SESSION_LOCK_TIMEOUT", "2", 2.0),
    ("RACE_WINDOW", "0.001", 0.001),
    ("PERMANENT_SESSION_LIFETIME", "60", timedelta(seconds=60)),
    ("REDIS_URL", "", None),
    ("SESSION_COOKIE_SAMESITE", "Strict", "Strict"),
    ("SESSION_DIR", "123", "123"),
    ("TRUSTED_ORIGINS", "https://a.example, http://127.0.0.1:8000",
     frozenset({"https://a.example", "http://127.0.0.1:8000"})),
    ("TRUSTED_ORIGINS", '["https://a.example"]', frozenset({"https://a.example"})),
    ("TRUSTED_ORIGINS", "", frozenset()),
])
def test_environment_text_is_coerced_to_the_settings_type(env_app, name, text, value):
    app = env_app(**{name: text})
    got = app.config[name]
    if name == "SESSION_DIR":
        got = os.path.basename(got)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("name, text, expected", [
    ("SESSION_LOCK", "maybe", "expected true or false"),
    ("SESSION_COOKIE_SECURE", "yes please", "expected true or false"),
    ("SESSION_LOCK_TIMEOUT", "soon", "expected a number of seconds"),
    ("SESSION_LOCK_TIMEOUT", "-1", "expected a number of seconds"),
    ("SESSION_LOCK_TIMEOUT", "nan", "expected a number of seconds"),
    ("PERMANENT_SESSION_LIFETIME", "0", "greater than 0"),
    ("SESSION_COOKIE_SAMESITE", "None", "expected one of Lax, Strict"),
    ("TRUSTED_ORIGINS", "https://a.example/", "is not an origin"),
    ("TRUSTED_ORIGINS", "[not json", "expected a JSON list"),
    ("TRUSTED_ORIGINS", "{}", "is not an origin"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_the_setting(env_app, name, text, expected):
    with pytest.raises(StartupError) as refused:
        env_app(**{name: text})
    assert refused.value.message.startswith(f"SESSION_COUNTER_{name}={text!r} cannot be used")
    assert expected in refused.value.message


def test_a_misspelt_variable_is_refused_with_the_likely_name(env_app):
    with pytest.raises(StartupError) as refused:
        env_app(SESION_LOCK="false")
    assert refused.value.message.startswith("SESSION_COUNTER_SESION_LOCK is not a setting")
    assert "did you mean SESSION_COUNTER_SESSION_LOCK?" in refused.value.message


def test_instance_config_is_typed_too_and_a_secret_is_never_shown(tmp_path, env_app):
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text("SECRET_KEY = 12345678\n")
    with pytest.raises(StartupError) as refused:
        env_app()
    message = refused.value.message
    assert message.startswith(f"SECRET_KEY in {folder / 'config.py'} cannot be used")
    assert "expected a string" in message and "12345678" not in message


def test_instance_config_takes_native_values(tmp_path, env_app):
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text("SESSION_LOCK = False\nSESSION_LOCK_TIMEOUT = 3\n"
                                      "TRUSTED_ORIGINS = ['https://A.example:443']\n")
    app = env_app()
    assert app.config["SESSION_LOCK"] is False and app.config["SESSION_LOCK_TIMEOUT"] == 3.0
    assert app.config["TRUSTED_ORIGINS"] == frozenset({"https://a.example"})


def test_every_setting_has_a_type():
    for name in setting_names():
        parse = setting_type(name)
        if name in DEFAULTS:
            parse(DEFAULTS[name])  # every default passes its own type


def test_every_variable_the_project_names_is_a_setting_or_let_through():
    """A SESSION_COUNTER_* variable read by a test or script must not stop the app."""
    from session_counter.config import NOT_SETTINGS

    named = set()
    for folder, _, files in os.walk(PROJECT_ROOT):
        if any(part.startswith(".") for part in folder[len(PROJECT_ROOT):].split(os.sep)):
            continue
        for file in files:
            if file.endswith((".py", ".sh", ".md", ".toml")) or file == "run":
                with open(os.path.join(folder, file), errors="replace") as f:
                    named |= set(re.findall(r"SESSION_COUNTER_([A-Z][A-Z_]*[A-Z])", f.read()))
    named -= {"SESION_LOCK"}  # the misspelling these tests and docs show being refused
    assert named - set(setting_names()) - NOT_SETTINGS == set()


def test_run_py_prints_the_refusal_without_a_traceback(tmp_path):
    env = clean_environ()
    env.update(SESSION_COUNTER_INSTANCE_PATH=str(tmp_path / "instance"),
               SESSION_COUNTER_SESSION_LOCK_TIMEOUT="ten")
    done = subprocess.run([sys.executable, "run.py"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert done.stderr.startswith("session-counter cannot start: "
                                  "SESSION_COUNTER_SESSION_LOCK_TIMEOUT='ten' cannot be used")
    assert "Traceback" not in done.stderr
