"""Which generation a request speaks, and 1.x cursor pages (pure functions, in memory)."""

from __future__ import annotations

import pytest

from host.api.v1gen.generation import client_generation, legacy_or_v1_order, page_in_memory, page_ordered


@pytest.mark.parametrize(("headers", "generation"), [
    ({"x-stainless-package-version": "1.12.1", "user-agent": "Letta/Python 1.12.1"}, 1),
    ({"x-stainless-package-version": "2.0.0"}, 1),
    ({"x-stainless-package-version": "0.9.0"}, 0),
    ({"user-agent": "letta-client/1.3.0"}, 1),
    ({"user-agent": "node @letta-ai/letta-client/1.12.1"}, 1),
    ({"user-agent": "letta-client/0.1.213"}, 0),
    ({"user-agent": "curl/8"}, 0),
    ({"x-fern-sdk-version": "0.1.213", "user-agent": "python-httpx/0.28"}, 0),
    ({}, 0),
])
def test_a_client_is_1x_only_by_its_stainless_header_or_user_agent(headers, generation):
    assert client_generation(headers) == generation


ITEMS = [{"id": f"x{i}", "created_at": "2026-12-06T00:00:00"} for i in (3, 1, 2)]  # one created_at: ties


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_after_the_last_id_list_every_item_once_in_either_order(order):
    seen, after = [], None
    while page := page_in_memory(ITEMS, order, after, None, 2):
        seen += [item["id"] for item in page]
        after = page[-1]["id"]
    expected = sorted(item["id"] for item in ITEMS)
    assert seen == (expected if order == "asc" else expected[::-1])


def test_before_stops_short_of_its_item():
    assert [i["id"] for i in page_in_memory(ITEMS, "asc", None, "x3", None)] == ["x1", "x2"]


def test_an_ordered_page_after_a_message_id_skips_every_part_sharing_that_id():
    parts = [{"id": "m1"}, {"id": "m1"}, {"id": "m2"}, {"id": "m3"}]
    assert page_ordered(parts, "m1", None, 10) == [{"id": "m2"}, {"id": "m3"}]
    assert page_ordered(parts, None, "m2", 10) == [{"id": "m1"}, {"id": "m1"}]


@pytest.mark.parametrize(("v1", "order", "legacy_asc", "expected"), [
    (False, None, False, (False, "a", "b")),  # 0.8: cursors are chronological, as before
    (False, "desc", False, (False, "b", "a")),  # an explicit order means 1.x semantics
    (True, None, True, (False, "b", "a")),  # 1.x default: desc, after = older
    (True, "asc", False, (True, "a", "b")),
])
def test_cursor_semantics_per_generation(v1, order, legacy_asc, expected):
    assert legacy_or_v1_order(v1, order, legacy_asc, "a", "b") == expected
