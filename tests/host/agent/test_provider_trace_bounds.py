"""A provider trace is bounded and stripped before it is stored (host.services.provider_traces)."""

from __future__ import annotations

from host.llm.providers import ProviderSettings
from host.services.provider_traces import _bounded, provider_secrets
from mcp_client import Redactor


def test_a_configured_provider_key_in_the_text_is_replaced():
    redact = provider_secrets(ProviderSettings(openai_api_key="sk-secret-value-1"))
    out = _bounded({"messages": [{"content": "my key is sk-secret-value-1"}], "model": "m"}, redact, 10_000)
    assert "sk-secret-value-1" not in str(out) and "****" in str(out) and out["model"] == "m"


def test_an_oversized_side_keeps_its_settings_and_says_it_was_cut():
    out = _bounded({"messages": [{"content": "x" * 5000}], "model": "m", "temperature": 0.7}, Redactor(), 1000)
    assert out["truncated"] is True and out["original_bytes"] > 5000
    assert "messages" not in out and out["model"] == "m" and out["temperature"] == 0.7


def test_a_clean_small_side_is_stored_as_it_is():
    value = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert _bounded(value, Redactor(), 1000) is value
