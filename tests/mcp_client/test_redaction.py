"""Which configured values count as secret, how text and URLs are redacted, and log records scrubbed."""

from __future__ import annotations

import io
import logging

import pytest

from mcp_client import (
    McpServerConfig,
    Redactor,
    env_secrets,
    install_log_scrubbing,
    redacted,
    redactor_for,
    scrub_urls,
    unmask,
)


def stdio(args: list[str], env: dict[str, str] | None = None) -> McpServerConfig:
    return McpServerConfig(name="s", transport="stdio", command="python", args=args, env=env or {})


@pytest.mark.parametrize(("args", "hidden", "shown"), [
    (["--api-key", "abc"], ["abc"], ["--api-key"]),                         # after a secret flag: 3 chars suffice
    (["--token=xyz1"], ["xyz1"], ["--token"]),                             # attached with =
    (["-y", "stdio", "server.py"], ["server.py"], ["-y", "stdio"]),        # plain values: 6 chars and more
    (["--port", "8080", "--verbose"], [], ["8080", "--verbose"]),          # short values and flag names stay
    (["-e", "API_KEY=k3y"], ["k3y"], ["-e"]),                              # NAME=value: the value alone too
    (["--url=http://bob:pw9@h/x?key=qv1"], ["pw9", "qv1"], ["--url"]),       # URL credentials inside an argument
])
def test_argument_values_follow_the_length_rule(args: list[str], hidden: list[str], shown: list[str]) -> None:
    redact = redactor_for(stdio(args))
    text = "child said: " + " ".join(args) + "; alone: " + " ".join(hidden)
    out = redact(text)
    for value in hidden:
        assert value not in out, (value, out)
    for value in shown:
        assert value in out, (value, out)


def test_env_header_and_url_values_are_secret() -> None:
    config = McpServerConfig(
        name="r", url="http://alice:hunter2@127.0.0.1:9/mcp?api_key=q%2Fkey&page=1",
        headers={"Authorization": "Bearer tok-123", "X-Trace": "traceid-77"},
    )
    redact = redactor_for(config)
    text = "401 for http://alice:hunter2@127.0.0.1:9/mcp?api_key=q%2Fkey (q/key) with tok-123 and traceid-77 page=1"
    out = redact(text)
    for value in ("hunter2", "q%2Fkey", "q/key", "tok-123", "traceid-77"):
        assert value not in out
    assert "alice" in out, "a user name under 6 characters is not a secret by itself"
    assert "page=1" in out


def test_env_values_named_like_secrets_are_redacted_from_three_characters() -> None:
    assert env_secrets({"API_TOKEN": "abc", "REGION": "eu", "HOME_DIR": "/home/x", "PWD_HINT": "ab"}) >= {"abc", "/home/x"}
    assert "eu" not in env_secrets({"REGION": "eu"})
    assert not env_secrets({"PWD_HINT": "ab"})


def test_longest_value_wins_and_an_empty_redactor_changes_nothing() -> None:
    redact = Redactor(["secret", "secret-long"])
    assert redact("x secret-long y secret") == "x **** y ****"
    assert Redactor()("secret") == "secret" and not Redactor()
    assert "secret" not in repr(redact)


def test_answers_hide_url_credentials_inside_arguments() -> None:
    view = redacted(stdio(["--url=http://bob:pw9@h/x?key=qv1", "-e", "API_KEY=k3y", "--token", "t0k", "plain"]))
    assert view["args"] == ["--url=http://bob:****@h/x?key=****", "-e", "API_KEY=****", "--token", "****", "plain"]


def test_bad_url_message_does_not_repeat_the_credentials() -> None:
    with pytest.raises(ValueError) as caught:
        McpServerConfig(name="x", url="ftp://u:pw-secret@h/?k=qsecret")
    message = caught.value.errors()[0]["msg"]  # what error answers and last_error are made of
    assert "must start with http" in message and "pw-secret" not in message and "qsecret" not in message


def test_scrub_urls_drops_userinfo_and_masks_query_values() -> None:
    text = "HTTP Request: POST http://u:p@ss@127.0.0.1:5/mcp?api_key=zz&x=1 \"HTTP/1.1 401\" and 'https://h/a?b=c'"
    assert scrub_urls(text) == ("HTTP Request: POST http://127.0.0.1:5/mcp?api_key=****&x=**** \"HTTP/1.1 401\" "
                                "and 'https://h/a?b=****'")
    assert scrub_urls("no url, file:///tmp/x") == "no url, file:///tmp/x"


def test_log_records_of_any_logger_are_scrubbed_with_their_tracebacks() -> None:
    previous = logging.getLogRecordFactory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("tests.redaction.any")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        install_log_scrubbing()
        install_log_scrubbing()  # idempotent
        log.info("request %s %s", "POST", "http://user:pw-1@h/mcp?api_key=key-1")
        log.info("f-string http://user:pw-2@h/mcp?token=key-2")
        try:
            raise ValueError("refused http://user:pw-3@h/?key=key-3")
        except ValueError:
            log.exception("call failed")
    finally:
        log.removeHandler(handler)
        logging.setLogRecordFactory(previous)
    out = stream.getvalue()
    assert "http://h/mcp?api_key=****" in out and "ValueError: refused http://h/?key=****" in out
    for secret in ("pw-1", "pw-2", "pw-3", "key-1", "key-2", "key-3"):
        assert secret not in out


def test_the_masked_view_sent_back_keeps_every_stored_secret() -> None:
    old = McpServerConfig(name="r", url="http://bob:pw1@h/mcp?api_key=K1&page=2", headers={"X-Key": "hk1"})
    view = redacted(old)
    new = McpServerConfig(name="r", url=view["url"], headers={**view["headers"], "X-New": "v"}, timeout_s=5)
    assert unmask(new, old) == old.model_copy(update={"headers": {"X-Key": "hk1", "X-New": "v"}, "timeout_s": 5})
    args = ["a.py", "--api-key", "S1", "--token=S2", "http://u:p@h?k=v"]
    kept = unmask(stdio(redacted(stdio(args))["args"] + ["--more"]), stdio(args))
    assert kept.args == [*args, "--more"]
    assert unmask(stdio(["--api-key", "new-one"]), stdio(args)).args == ["--api-key", "new-one"]
