"""The server key file (``host.persistence.secret_box``): created once, whole, by whichever opener is first.

Workers of one `agenthost serve --workers N` start together on a fresh data directory and each opens the key:
every one of them must end up with the same, complete key (a reader never sees a half-written file).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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


def test_a_key_that_is_not_a_fernet_key_stops_the_box_at_open(tmp_path):
    from cryptography.fernet import Fernet

    from host.persistence.secret_box import SecretBoxError

    for bad in ("not-a-key", "c2hvcnQ=", Fernet.generate_key().decode()[:-4]):
        with pytest.raises(SecretBoxError, match="AGENTHOST_SECRET_KEY is not a Fernet key"):
            SecretBox.open(tmp_path, env={"AGENTHOST_SECRET_KEY": bad})
    home = tmp_path / "home"
    home.mkdir()
    (home / KEY_FILE).write_text("garbage")
    with pytest.raises(SecretBoxError, match="does not hold a Fernet key"):
        SecretBox.open(home, env={})
    key = Fernet.generate_key()
    box = SecretBox.open(tmp_path, env={"AGENTHOST_SECRET_KEY": key.decode()})
    assert Fernet(key).decrypt(box.encrypt("sk-1").encode()) == b"sk-1", "the configured key is the one used"


def test_opening_the_box_loads_no_cryptography_until_a_secret_is_used(tmp_path):
    code = (
        "import sys; from pathlib import Path; from host.persistence.secret_box import SecretBox\n"
        f"box = SecretBox.open(Path({str(tmp_path)!r}), env={{}})\n"
        "before = 'cryptography' in sys.modules\n"
        "from cryptography.fernet import Fernet\n"
        f"key = (Path({str(tmp_path)!r}) / 'secret.key').read_bytes()\n"
        "token = box.encrypt('sk-x')\n"
        "print(before, Fernet(key).decrypt(token.encode()) == b'sk-x', box.decrypt(token))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "sk-x"], "a generated key file is a Fernet key, loaded late"
