"""Ids: Letta's ``<prefix>-<uuid4>``, read ahead from ``os.urandom`` per thread, never repeated across threads or
after a fork."""

from __future__ import annotations

import os
import threading
import uuid

from host.ids import new_id, random_uuid


def test_ids_are_version_4_uuids_with_their_prefix_and_never_repeat_across_threads() -> None:
    seen: list[list[str]] = []

    def make() -> None:
        seen.append([new_id("message") for _ in range(2000)])  # several read-aheads each

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for batch in seen for i in batch]
    assert len(ids) == len(set(ids)) == 8000
    for i in ids[:50] + ids[-50:]:
        prefix, _, rest = i.partition("-")
        parsed = uuid.UUID(rest)
        assert prefix == "message" and str(parsed) == rest and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_forked_child_does_not_hand_out_what_its_parent_read_ahead() -> None:
    random_uuid()  # this thread's read-ahead is filled: a child copied without the fork hook would replay it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        try:
            os.write(write, "\n".join(str(random_uuid()) for _ in range(20)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split("\n"))
    os.waitpid(pid, 0)
    parent = {str(random_uuid()) for _ in range(20)}
    assert len(child) == 20 and not child & parent
