"""A provider trace is bounded and stripped before it is stored (host.services.provider_traces)."""

from __future__ import annotations

import json

from host.llm.providers import ProviderSettings
from host.persistence.types import EncodedJSON
from host.services.provider_traces import _bounded, provider_secrets
from mcp_client import Redactor


def test_a_configured_provider_key_in_the_text_is_replaced():
    redact = provider_secrets(ProviderSettings(openai_api_key="sk-secret-value-1"))
    out = _bounded({"messages": [{"content": "my key is sk-secret-value-1"}], "model": "m"}, redact, 10_000)
    assert isinstance(out, EncodedJSON)
    assert "sk-secret-value-1" not in out and "****" in out and json.loads(out)["model"] == "m"
    sent = json.dumps({"model": "m", "messages": [{"content": "again sk-secret-value-1"}]})  # a request as sent
    out = _bounded(sent, redact, 10_000)
    assert "sk-secret-value-1" not in out and json.loads(out)["messages"][0]["content"] == "again ****"


def test_an_oversized_side_keeps_its_settings_and_says_it_was_cut():
    value = {"messages": [{"content": "x" * 5000}], "model": "m", "temperature": 0.7}
    for given in (value, json.dumps(value)):
        out = _bounded(given, Redactor(), 1000)
        assert isinstance(out, dict) and out["truncated"] is True and out["original_bytes"] > 5000
        assert "messages" not in out and out["model"] == "m" and out["temperature"] == 0.7


def test_a_clean_small_side_is_stored_as_its_json_text():
    value = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert _bounded(value, Redactor(), 1000) == json.dumps(value)
    sent = json.dumps(value)
    assert _bounded(sent, Redactor(), 1000) == sent
