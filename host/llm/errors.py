"""Model-call failures (the provider's own message is kept in `LlmProviderError.provider_message`)::

    LlmError
    ├── LlmConfigError            endpoint type this package cannot call
    ├── LlmTimeoutError           no complete answer within timeout_s
    ├── LlmProviderError          provider answered with an error (status_code, provider_message)
    │   ├── LlmConnectionError    could not reach the provider (status_code None)
    │   └── LlmContextWindowError prompt larger than the model's context window
    └── LlmResponseError          an answer that is not a completion (malformed JSON, no choices, empty)
"""

from __future__ import annotations


class LlmError(Exception):
    """Base class of model-call failures."""


class LlmConfigError(LlmError):
    pass


class LlmTimeoutError(LlmError):
    def __init__(self, model: str, timeout_s: float) -> None:
        self.model, self.timeout_s = model, timeout_s
        super().__init__(f"{model}: no answer within {timeout_s:g} s (raise timeout_s or check the provider)")


class LlmProviderError(LlmError):
    def __init__(self, model: str, status_code: int | None, provider_message: str) -> None:
        self.model, self.status_code, self.provider_message = model, status_code, provider_message
        status = f"HTTP {status_code}" if status_code is not None else "an error"
        super().__init__(f"{model}: provider answered with {status}: {provider_message}")


class LlmConnectionError(LlmProviderError):
    pass


class LlmContextWindowError(LlmProviderError):
    pass


class LlmResponseError(LlmError):
    pass
