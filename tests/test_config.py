"""Config files: found where the user expects, and every mistake told in one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import config
from monitor.cli import cli

ROOT = Path(__file__).parent.parent
GOOD = """
[database]
url = "sqlite:///state/nm.db"
[[feeds]]
url = "http://127.0.0.1:9/feed"
[[rules]]
name = "r"
keywords = ["x"]
channels = ["hook"]
[channels.hook]
type = "webhook"
url = "http://127.0.0.1:9/hook"
"""


def check(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "check-config", "--config", str(path)])
    return result.exit_code, result.output


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('url = "sqlite:///state/nm.db"', 'url = "sqlite:///state/nm.db"\ncolour = "red"'),
            "database.colour: unknown key.",
        ),
        (
            ('keywords = ["x"]', 'keywords = "x"'),
            "rules[0].keywords: input should be a valid tuple.",
        ),
        (
            ('channels = ["hook"]', 'channels = ["pager"]'),
            "rules[0].channels: channel 'pager' is not defined in [channels].",
        ),
        (
            ('url = "http://127.0.0.1:9/feed"', 'url = "ftp://example.org/feed"'),
            "feeds[0].url: 'ftp://example.org/feed' is not an http:// or https:// URL with a host.",
        ),
        (
            ('url = "http://127.0.0.1:9/hook"', 'url = "not a url"'),
            "channels.hook.url: 'not a url' is not an http:// or https:// URL with a host.",
        ),
        (
            ("[[rules]]", '[defaults]\ninterval = "soon"\n[[rules]]'),
            "defaults.interval: 'soon' is not a duration like 30s, 15m, 2h or 1d.",
        ),
        (
            ('type = "webhook"', 'type = "pigeon"'),
            "channels.hook: type must be one of 'email', 'webhook', 'slack', 'discord', 'teams',",
        ),
        (
            ('keywords = ["x"]', 'keywords = ["x", "--"]'),
            "rules[0].keywords: the term '--' has no letters",
        ),
        (
            ('url = "http://127.0.0.1:9/hook"', 'url = "${NEWSMONITOR_TEST_UNSET}"'),
            "channels.hook.url: environment variable NEWSMONITOR_TEST_UNSET is not set.",
        ),
        (("[[rules]]", "[[rules"), "not valid TOML"),
        (
            ('type = "webhook"', 'type = "webhook"\ntimeout = "5m"'),
            "channels.hook.timeout: must be at most 2 minutes.",
        ),
    ],
)
def test_bad_config_gives_one_sentence_and_status_2(
    tmp_path: Path, change: tuple[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSMONITOR_TEST_UNSET", raising=False)
    path = write(tmp_path, GOOD.replace(*change, 1))
    status, output = check(path)
    assert status == 2
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: ")
    assert message in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    status, output = check(tmp_path / "nope.toml")
    assert status == 2
    assert output.strip() == f"error: {tmp_path / 'nope.toml'}: the config file does not exist."


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace("[[feeds]]", "[network]\nconcurrency = 0\nspeed = 1\n[[feeds]]")
    )
    status, output = check(path)
    assert status == 2
    assert sorted(output.strip().splitlines()) == [
        f"error: {path}: network.concurrency: input should be greater than or equal to 1.",
        f"error: {path}: network.speed: unknown key.",
    ]


def test_config_option_before_or_after_the_command(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    for args in (["--config", str(path), "check-config"], ["check-config", "--config", str(path)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.output == f"{path}: OK (1 feed, 1 rule, 1 channel)\n"


def test_environment_then_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env_path = write(elsewhere, GOOD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSMONITOR_CONFIG", str(env_path))
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.output.startswith(str(env_path))
    monkeypatch.delenv("NEWSMONITOR_CONFIG")
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 2
    assert "config.toml: the config file does not exist" in result.output
    write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 0
    assert result.output.startswith("config.toml: OK")


def test_relative_sqlite_path_resolves_against_the_config_folder(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, GOOD))
    assert cfg.database.url == f"sqlite:///{tmp_path.resolve() / 'state' / 'nm.db'}"


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NM_TEST_TOKEN", "s3cret")
    text = GOOD.replace(
        'url = "http://127.0.0.1:9/hook"',
        'url = "http://127.0.0.1:9/hook"\nheaders = { Authorization = "Bearer ${NM_TEST_TOKEN}" }',
    )
    cfg = config.load(write(tmp_path, text))
    hook = cfg.channels["hook"]
    assert isinstance(hook, config.WebhookChannel)
    assert hook.headers == {"Authorization": "Bearer s3cret"}


def test_email_password_is_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NM_TEST_PASSWORD", "hunter2")
    mail_block = """
[channels.mail]
type = "email"
host = "127.0.0.1"
from = "a@example.org"
to = ["b@example.org"]
username = "u"
password = "${NM_TEST_PASSWORD}"
"""
    text = GOOD + mail_block
    cfg = config.load(write(tmp_path, text))
    mail = cfg.channels["mail"]
    assert isinstance(mail, config.EmailChannel)
    assert mail.password is not None and mail.password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(cfg)
    assert mail.effective_port == 587


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), (45, 45)],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert config.parse_duration(text).total_seconds() == seconds


def test_shipped_config_is_valid() -> None:
    result = CliRunner().invoke(cli, ["check-config", "--config", str(ROOT / "config.toml")])
    assert result.exit_code == 0, result.output
    cfg = config.load(ROOT / "config.toml")
    assert {r.name for r in cfg.rules} == {"dnipro", "ceasefire"}
    assert any("Dnipropetrovsk" in r.keywords for r in cfg.rules)
    assert any("ceasefire" in r.keywords for r in cfg.rules)


def test_small_conveniences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NM_TEST_TOKEN", "t")
    headers = 'headers = { X-Literal = "$${NOT_A_VAR} ${NM_TEST_TOKEN}" }'
    mail_block = '[channels.mail]\ntype = "email"\nhost = "h"\nfrom = "a@example.org"\n'
    hook_url = 'url = "http://127.0.0.1:9/hook"'
    text = GOOD.replace(hook_url, f"{hook_url}\n{headers}") + mail_block + 'to = "b@example.org"\n'
    cfg = config.load(write(tmp_path, text))
    hook, mail = cfg.channels["hook"], cfg.channels["mail"]
    assert isinstance(hook, config.WebhookChannel)
    assert hook.headers == {"X-Literal": "${NOT_A_VAR} t"}  # $${ is a literal ${
    assert isinstance(mail, config.EmailChannel)
    assert mail.to == ("b@example.org",)  # one address may be written without a list


def test_negative_backlog_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "[defaults]\nbacklog_alerts = -60\n")
    status, output = check(path)
    assert status == 2
    assert output.strip() == f"error: {path}: defaults.backlog_alerts: must not be negative."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            'keywords = ["x"]\nquery = "Kyiv"',
            "rules[0]: give either query or keywords, not both.",
        ),
        (
            "query = 'Kyiv AND'",
            "rules[0].query: the query does not parse at character 9: expected a word, "
            'a "phrase", a /pattern/, a field: or "(" after AND, found the end of the query.',
        ),
        (
            "query = '(Kyiv OR Kharkiv'",
            'rules[0].query: the query does not parse at character 17: expected ")" to close',
        ),
        ("query = 'titel:Kyiv'", "expected a field name (title, summary, author"),
        ("query = '-football'", "rules[0].query: the query only excludes"),
        ("query = '/(a/'", "expected a valid regular expression"),
        ('keywords = ["ab*"]', "rules[0].keywords: the term 'ab*' does not parse at character"),
        ('exclude = ["y"]', "rules[0]: a rule needs a query or at least one keyword."),
        ('keywords = ["x"]\nexact = "yes"', "rules[0].exact: input should be a valid boolean"),
    ],
)
def test_bad_queries_give_one_sentence_and_status_2(
    tmp_path: Path, change: str, message: str
) -> None:
    path = write(tmp_path, GOOD.replace('keywords = ["x"]', change, 1))
    status, output = check(path)
    assert status == 2
    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_rules_with_queries_and_exact(tmp_path: Path) -> None:
    text = GOOD.replace(
        'keywords = ["x"]',
        "query = 'title:(Kyiv OR Kharkiv) -football NEAR/3 club'\nexact = true",
        1,
    )
    status, output = check(write(tmp_path, text))
    assert status == 0, output
    cfg = config.load(tmp_path / "config.toml")
    assert cfg.rules[0].exact is True
    assert cfg.rules[0].keywords == ()


def test_secrets_from_systemd_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "webhook-token").write_text("tok3n\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    line = 'url = "http://127.0.0.1:9/hook"'
    text = GOOD.replace(line, f'{line}\nheaders = {{ X-Token = "${{credential:webhook-token}}" }}')
    hook = config.load(write(tmp_path, text)).channels["hook"]
    assert isinstance(hook, config.WebhookChannel)
    assert hook.headers == {"X-Token": "tok3n"}
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    status, output = check(write(tmp_path, text))
    assert status == 2
    assert "credential webhook-token is asked for, but CREDENTIALS_DIRECTORY is not set" in output


def test_channel_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not checked here")
    (tmp_path / "t.j2").write_text("{{ alert.title }}")
    text = GOOD + (
        '[channels.mail]\ntype = "email"\nhost = "h"\nfrom = "a@example.org"\n'
        'to = "b@example.org"\nca_file = "ca.pem"\n[channels.chat]\ntype = "slack"\n'
        'url = "http://127.0.0.1:9/slack"\ntemplate = "t.j2"\n'
    )
    cfg = config.load(write(tmp_path, text))
    mail, chat = cfg.channels["mail"], cfg.channels["chat"]
    assert isinstance(mail, config.EmailChannel)
    assert mail.ca_file == str(tmp_path.resolve() / "ca.pem")
    assert chat.template == str(tmp_path.resolve() / "t.j2")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            '[channels.x]\ntype = "webhook"\nurl = "http://127.0.0.1:9/x"\ntemplate = "t.j2"\n',
            "channels.x.template: a webhook sends the alert's JSON object; it takes no template.",
        ),
        (
            '[channels.x]\ntype = "apprise"\nurl = "nosuchservice://secret-token@host"\n',
            "channels.x",
        ),
        (
            '[channels.x]\ntype = "email"\nhost = "h"\nfrom = "a@b.c"\nto = "d@e.f"\n'
            'ca_file = "no.pem"\n',
            "channels.x.ca_file:",
        ),
    ],
)
def test_channel_mistakes_are_caught_by_check_config(
    tmp_path: Path, block: str, message: str
) -> None:
    status, output = check(write(tmp_path, GOOD + block))
    assert status == 2, output
    assert message in output
    assert "secret-token" not in output


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `newsmonitor check-config | head -0`: the reader is gone before anything is written.
    path = write(tmp_path, GOOD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "check-config", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (1, "")
