"""Keep configured secrets out of error text, answers and log lines.

Three tools:

    Redactor                 replaces known secret values in text with ``"****"`` (longest first)
    scrub_urls(text)         drops the userinfo of every URL in free text and masks its query values
    install_log_scrubbing()  every log record, whoever wrote it (httpx, the MCP SDK, us), through
                             scrub_urls; called once where logging is configured

Which configured values are secret (``secret_values(config)``, ``env_secrets(mapping)``):

    named values   a value whose name suggests a secret - an env var, header, query parameter or
                   ``--flag`` matching token|key|secret|password|passwd|pwd|auth|credential|cookie|session|
                   signature|private - a URL's password (and the ``Basic`` credentials HTTP clients
                   make of its userinfo), and the credentials part of a header value (``Bearer <token>``):
                   redacted when at least ``MIN_NAMED_LEN`` (3) characters long
    other values   every other env, header and query value, a URL's user name, and every argument
                   (for ``--flag=value``: the value; flag names themselves are not values): redacted
                   when at least ``MIN_VALUE_LEN`` (6) characters long, so that ``-y``, ``eu`` or
                   ``stdio`` do not blank out ordinary words

Values also count in their percent-encoded and percent-decoded spellings (URLs carry either).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from mcp_client.config import McpServerConfig

REDACTED = "****"
MIN_NAMED_LEN = 3
MIN_VALUE_LEN = 6
SECRET_WORD = re.compile(
    r"(token|key|secret|password|passwd|pwd|auth|credential|cookie|session|signature|private)", re.IGNORECASE
)
_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/?#'\"<>]*@)?(?P<rest>[^\s'\"<>]*)")
_QUERY_VALUE = re.compile(r"(?P<key>[^=&;#]*=)[^&;#]*")


class Redactor:
    """Replace every occurrence of a set of secret values with ``"****"``; an empty set changes nothing."""

    __slots__ = ("values", "_pattern")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: frozenset[str] = frozenset(v for v in values if v)
        ordered = sorted(self.values, key=lambda v: (-len(v), v))  # longest first: a value inside another
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)

    def lines(self, chunks: Iterable[str]) -> list[str]:
        return [self(chunk) for chunk in chunks]

    def __or__(self, other: Redactor) -> Redactor:
        return Redactor(self.values | other.values)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __repr__(self) -> str:  # never the values themselves
        return f"Redactor({len(self.values)} values)"


# ---- which values are secret ---------------------------------------------------------------------
def _spellings(value: str) -> set[str]:
    return {value, unquote(value), quote(value, safe="")}


def _keep(value: str, named: bool) -> set[str]:
    if len(value) < (MIN_NAMED_LEN if named else MIN_VALUE_LEN):
        return set()
    return {s for s in _spellings(value) if len(s) >= MIN_NAMED_LEN}


def env_secrets(env: Mapping[str, str]) -> set[str]:
    """The secret values of an environment (or any name -> value mapping)."""
    out: set[str] = set()
    for key, value in env.items():
        if isinstance(value, str):
            out |= _keep(value, bool(SECRET_WORD.search(key)))
    return out


def header_secrets(headers: Mapping[str, str]) -> set[str]:
    out: set[str] = set()
    for name, value in headers.items():
        named = bool(SECRET_WORD.search(name))
        out |= _keep(value, named)
        scheme, _, credentials = value.strip().partition(" ")
        if credentials.strip():  # "Bearer <token>", "Basic <base64>": the credentials alone
            out |= _keep(credentials.strip(), True)
    return out


def url_secrets(url: str) -> set[str]:
    """A URL's user name, password and query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    out: set[str] = set()
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        user, _, password = userinfo.partition(":")
        out |= _keep(user, False) | _keep(password, True)
        if password:  # HTTP clients send userinfo as "Authorization: Basic base64(user:password)"
            basic = f"{unquote(user)}:{unquote(password)}".encode()
            out |= _keep(base64.b64encode(basic).decode(), True)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        out |= _keep(value, bool(SECRET_WORD.search(key)))
    for raw in parts.query.split("&"):  # the raw spelling too (parse_qsl decodes)
        key, _, value = raw.partition("=")
        out |= _keep(value, bool(SECRET_WORD.search(key)))
    return out


def arg_secrets(args: Iterable[str]) -> set[str]:
    """Every argument value (see the module docstring for the length rule)."""
    out: set[str] = set()
    after_secret_flag = False
    for arg in args:
        if after_secret_flag:
            value, named, after_secret_flag = arg, True, False
        elif arg.startswith("-"):
            flag, eq, value = arg.partition("=")
            named = bool(SECRET_WORD.search(flag))
            if not eq:  # a flag name is not a value; the next argument may be a secret one
                after_secret_flag = named
                continue
        else:
            value, named = arg, False
        out |= _keep(value, named)
        if "://" in value:
            out |= url_secrets(value)
        elif "=" in value:  # NAME=value (docker's -e, make-style settings)
            key, _, inner = value.partition("=")
            out |= _keep(inner, named or bool(SECRET_WORD.search(key)))
    return out


def secret_values(config: McpServerConfig) -> set[str]:
    """Every configured value of one MCP server that must not appear in text we show or log."""
    out = arg_secrets(config.args) | env_secrets(config.env) | header_secrets(config.headers)
    if config.url:
        out |= url_secrets(config.url)
    return out


def redactor_for(config: McpServerConfig | None) -> Redactor:
    return Redactor(secret_values(config)) if config is not None else Redactor()


# ---- URLs -----------------------------------------------------------------------------------------
def redact_url(url: str) -> str:
    """A URL for an API answer: the user name stays, the password and every query value become ``****``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    query = urlencode([(key, REDACTED) for key, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _scrub_one(match: re.Match[str]) -> str:
    head, sep, query = match.group("rest").partition("?")
    if sep:
        query = _QUERY_VALUE.sub(lambda m: m.group("key") + REDACTED, query)
    return match.group("scheme") + head + sep + query


def redact_urls(text: str) -> str:
    """`redact_url` applied to every URL inside `text` (an argument such as ``--url=https://...``)."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def scrub_urls(text: str) -> str:
    """Every URL in `text` without its userinfo and with its query values masked."""
    if "://" not in text:
        return text
    return _URL.sub(_scrub_one, text)


# ---- log records ----------------------------------------------------------------------------------
def _scrub_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    return scrub_urls(text) if "://" in text else value


def scrub_record(record: logging.LogRecord) -> None:
    """Scrub the URLs of one record's message, arguments and traceback (formatters that read ``args``
    keep working: each argument is replaced on its own, and only when it holds a URL)."""
    try:
        if isinstance(record.msg, str) and "://" in record.msg:
            record.msg = scrub_urls(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _scrub_value(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_scrub_value(value) for value in record.args)
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if "://" in text:
                record.exc_text = scrub_urls(text)  # formatters use exc_text when it is set
    except Exception:  # noqa: BLE001 - an argument whose str() fails: the handler reports it, not us
        return


def install_log_scrubbing() -> None:
    """Make every log record, from any logger and for any handler, go through `scrub_record`.

    Logging configuration: call it where logging is configured (the entrypoint). Idempotent.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "scrubs_urls", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_record(record)
        return record

    factory.scrubs_urls = True
    logging.setLogRecordFactory(factory)


# ---- masked values sent back ----------------------------------------------------------------------
def unmask_url(new: str, old: str | None) -> str:
    """`new` with every ``****`` that stands where `old` had its password or a query value put back."""
    if old is None or REDACTED not in new:
        return new
    try:
        n, o = urlsplit(new), urlsplit(old)
    except ValueError:
        return new
    netloc = n.netloc
    if "@" in n.netloc and "@" in o.netloc:
        (n_user, _, n_pw), n_host = n.netloc.rsplit("@", 1)[0].partition(":"), n.netloc.rsplit("@", 1)[1]
        o_userinfo = o.netloc.rsplit("@", 1)[0]
        if n_pw == REDACTED and o_userinfo.partition(":")[0] == n_user:
            netloc = f"{o_userinfo}@{n_host}"
    old_values: dict[str, list[str]] = {}
    for key, value in parse_qsl(o.query, keep_blank_values=True):
        old_values.setdefault(key, []).append(value)
    pairs = []
    for key, value in parse_qsl(n.query, keep_blank_values=True):
        if value == REDACTED and old_values.get(key):
            value = old_values[key].pop(0)
        pairs.append((key, value))
    query = urlencode(pairs) if n.query else ""
    return urlunsplit((n.scheme, netloc, n.path, query, n.fragment))


def unmask_args(new: list[str], old: list[str], masked_old: list[str]) -> list[str]:
    """`new` with each argument equal to the masked view of `old` at its position put back to the old value
    (`masked_old` is what answers showed for `old`)."""
    return [old[i] if i < len(old) and arg == masked_old[i] and arg != old[i] else arg for i, arg in enumerate(new)]
