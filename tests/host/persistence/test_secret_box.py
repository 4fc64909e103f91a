"""The server key file (``host.persistence.secret_box``): created once, whole, by whichever opener is first.

Workers of one `agenthost serve --workers N` start together on a fresh data directory and each opens the key:
every one of them must end up with the same, complete key (a reader never sees a half-written file).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from host.persistence.secret_box import KEY_FILE, SecretBox


def test_openers_racing_on_a_fresh_directory_all_get_the_one_key(tmp_path):
    for round_ in range(20):
        home = tmp_path / f"home{round_}"
        start = threading.Barrier(8)

        def open_box(_: int, home: Path = home, start: threading.Barrier = start) -> SecretBox:
            start.wait()
            return SecretBox.open(home, env={})

        with ThreadPoolExecutor(8) as pool:
            boxes = list(pool.map(open_box, range(8)))
        token = boxes[0].encrypt("sk-secret")
        assert all(box.decrypt(token) == "sk-secret" for box in boxes)
        assert sorted(p.name for p in home.iterdir()) == [KEY_FILE], "no draft left behind"
        assert (home / KEY_FILE).stat().st_mode & 0o777 == 0o600
