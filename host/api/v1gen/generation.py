"""Which API generation a client speaks, and the 1.x list conventions.

Letta's 1.x SDKs (``letta-client`` 1.x for Python, ``@letta-ai/letta-client`` 1.x for TypeScript) send
``X-Stainless-Package-Version: 1.x`` or a ``letta-client/1.x`` user agent; Letta recognises them that
way and so do we. Every other client is treated as 0.8's (``letta-client`` 0.1.x, curl, the ADE).

1.x lists are cursor pages: ``order`` (asc|desc), ``after``/``before`` an id, ``limit``; ``after`` means
"after this item *in the requested order*", so a desc page's next page is ``after=<last id>`` and holds
older items. ``PageArgs.cursors()`` turns that into ``paginate``'s chronological cursors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Query, Request

_UA = re.compile(r"(?:^|[\s(])(?:@letta-ai/)?letta-client/(\d+)\.", re.IGNORECASE)


def client_generation(headers: Mapping[str, str]) -> int:
    """1 for a letta-client 1.x SDK (or newer), 0 for everything else."""
    get = headers.get
    version = (get("x-stainless-package-version") or "").strip()
    if version:
        major = version.split(".", 1)[0]
        return 1 if major.isdigit() and int(major) >= 1 else 0
    match = _UA.search(get("user-agent") or "")
    return 1 if match and int(match.group(1)) >= 1 else 0


def is_v1(request: Request) -> bool:
    return client_generation(request.headers) >= 1


async def _v1_dep(request: Request) -> bool:
    return is_v1(request)


V1 = Annotated[bool, Depends(_v1_dep)]
Order = Literal["asc", "desc"]
T = TypeVar("T")


@dataclass(frozen=True)
class PageArgs:
    """A 1.x page request: the order, cursors in that order, and the size."""

    order: Order
    after: str | None
    before: str | None
    limit: int | None

    @property
    def ascending(self) -> bool:
        return self.order == "asc"

    def cursors(self) -> tuple[str | None, str | None]:
        """(after, before) in chronological terms, for ``host.persistence.paging.paginate``."""
        return (self.after, self.before) if self.ascending else (self.before, self.after)


def page_args(default_order: Order = "desc", default_limit: int | None = 50):
    """A dependency reading ``order``/``after``/``before``/``limit`` (1.x names)."""

    async def dep(order: Annotated[Order | None, Query()] = None, after: str | None = None,
                  before: str | None = None,
                  limit: Annotated[int | None, Query(ge=1, le=10000)] = default_limit) -> PageArgs:
        return PageArgs(order or default_order, after, before, limit)

    return dep


def legacy_or_v1_order(v1: bool, order: Order | None, ascending_legacy: bool, after: str | None,
                       before: str | None, v1_default: Order = "desc") -> tuple[bool, str | None, str | None]:
    """Pagination for a route both generations call: (ascending, after, before) for ``paginate``.

    An explicit ``order`` (or any 1.x client) means 1.x semantics; else 0.8's ``ascending`` with
    chronological cursors, as before.
    """
    if order is None and not v1:
        return ascending_legacy, after, before
    args = PageArgs(order or (v1_default if v1 else ("asc" if ascending_legacy else "desc")), after, before, None)
    got_after, got_before = args.cursors()
    return args.ascending, got_after, got_before


__all__ = ["V1", "Order", "PageArgs", "client_generation", "is_v1", "legacy_or_v1_order", "page_args", "page_in_memory", "page_ordered"]


def page_in_memory(items: list[T], order: Order, after: str | None, before: str | None,
                   limit: int | None) -> list[T]:
    """A 1.x page over a small, already loaded list (an agent's tools, blocks, folders...).

    Sorted by (created_at, id) so ties never reorder between pages: no item is listed twice.
    """
    def key(item: Any) -> tuple[str, str]:
        created = _field(item, "created_at")
        return (created.isoformat() if hasattr(created, "isoformat") else str(created or ""), str(_field(item, "id")))

    ordered = sorted(items, key=key, reverse=order == "desc")
    ids = [str(_field(item, "id")) for item in ordered]
    if after is not None:
        ordered = ordered[ids.index(after) + 1:] if after in ids else ordered
        ids = [str(_field(item, "id")) for item in ordered]
    if before is not None and before in ids:
        ordered = ordered[:ids.index(before)]
    return ordered[:limit] if limit is not None else ordered


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def page_ordered(items: list[T], after: str | None, before: str | None, limit: int | None) -> list[T]:
    """A page of a list already in the requested order: the items after ``after`` / before ``before``."""
    ids = [str(_field(item, "id")) for item in items]
    start = len(ids) - ids[::-1].index(after) if after in ids else 0  # after its last part (messages share ids)
    end = ids.index(before) if before in ids else len(items)
    page = items[start:max(start, end)]
    return page[:limit] if limit is not None else page
