"""The messenger's waits-for graph: which synchronous waits would close a cycle."""

from __future__ import annotations

import pytest

from host.agent.messenger import WaitGraph


@pytest.mark.parametrize(
    ("waits", "sender", "target", "cycle"),
    [
        ([], "a", "b", False),
        ([], "a", "a", True),  # waiting on yourself
        ([("a", "b")], "b", "a", True),  # a waits for b; b may not wait for a
        ([("a", "b"), ("b", "c")], "c", "a", True),  # three-agent ring
        ([("a", "b"), ("b", "c")], "c", "d", False),
        ([("a", "b"), ("x", "a")], "b", "x", True),  # x -> a -> b -> x
        ([("a", "b"), ("a", "c")], "c", "b", False),  # fan-out siblings may talk to each other
    ],
)
def test_a_wait_is_refused_exactly_when_it_closes_a_cycle(waits, sender, target, cycle):
    graph = WaitGraph()
    for s, t in waits:
        graph.add(s, t)
    assert graph.closes_cycle(sender, target) is cycle


def test_edges_are_counted_so_a_repeated_wait_outlives_the_first_one_ending():
    graph = WaitGraph()
    graph.add("a", "b")
    graph.add("a", "b")
    graph.remove("a", "b")
    assert graph.closes_cycle("b", "a")
    graph.remove("a", "b")
    assert not graph.closes_cycle("b", "a")
    graph.remove("a", "b")  # removing more than was added is harmless
    assert not graph.closes_cycle("b", "a")
