"""Pull string fields out of tool-call arguments while they are still streaming in.

The model streams ``{"inner_thoughts": "...", "message": "Hel`` one fragment at a time; to stream the
assistant's words as they arrive we decode the value of a known string field incrementally.
"""

from __future__ import annotations

import json
import re

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class PartialField:
    """Incrementally decode the string value of ``key`` from a growing JSON object text."""

    def __init__(self, key: str) -> None:
        self._start = re.compile(r'"' + re.escape(key) + r'"\s*:\s*"')
        self._pos: int | None = None
        self.done = False
        self.value = ""

    def feed(self, buffer: str) -> str:
        """Given the whole argument text so far, return the newly decoded characters."""
        if self.done:
            return ""
        if self._pos is None:
            m = self._start.search(buffer)
            if not m:
                return ""
            self._pos = m.end()
        out = []
        i = self._pos
        while i < len(buffer):
            ch = buffer[i]
            if ch == '"':
                self.done = True
                i += 1
                break
            if ch == "\\":
                if i + 1 >= len(buffer):
                    break
                nxt = buffer[i + 1]
                if nxt == "u":
                    if i + 6 > len(buffer):
                        break
                    try:
                        out.append(json.loads('"' + buffer[i:i + 6] + '"'))
                    except json.JSONDecodeError:
                        out.append(buffer[i:i + 6])
                    i += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        self._pos = i
        text = "".join(out)
        self.value += text
        return text
