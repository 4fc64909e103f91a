"""A pids cgroup per tool process: caps the process count (also for root) and finds every descendant.

RLIMIT_NPROC is ignored for uid 0, so when the server runs as root the only
reliable cap on a fork bomb is the kernel's pids controller.  We create
``<root>/agenthost-sandbox-<server pid>/<runner pid>``, write ``pids.max``, move the
runner into it before it receives its job (it cannot fork before that), and kill
every pid listed in ``cgroup.procs`` when the call ends, including processes that
left the process group with ``setsid``.

Works with cgroup v1 (``/sys/fs/cgroup/pids``) and v2 (a directory whose
``cgroup.subtree_control`` enables ``pids``).  When nothing is writable the
package falls back to RLIMIT_NPROC (non-root only) and process-group kills.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import anyio

logger = logging.getLogger(__name__)


class PidsCgroups:
    def __init__(self, parent: Path) -> None:
        self.parent = parent

    @classmethod
    def open(cls, root: Path | None) -> PidsCgroups | None:
        if root is None:
            return None
        parent = root / f"agenthost-sandbox-{os.getpid()}"
        try:
            parent.mkdir(exist_ok=True)
            probe = parent / "probe"
            probe.mkdir(exist_ok=True)
            usable = (probe / "pids.max").exists()
            probe.rmdir()
        except OSError as exc:
            logger.info("pids cgroup under %s is not usable (%s); process count falls back to RLIMIT_NPROC", root, exc)
            return None
        if not usable:
            logger.info("%s has no pids controller; process count falls back to RLIMIT_NPROC", root)
            try:
                parent.rmdir()
            except OSError:
                pass
            return None
        logger.info("tool processes are confined in pids cgroups under %s", parent)
        return cls(parent)

    def enter(self, pid: int, max_pids: int) -> Path | None:
        group = self.parent / str(pid)
        try:
            group.mkdir()
            if max_pids > 0:
                (group / "pids.max").write_text(str(max_pids))
            (group / "cgroup.procs").write_text(str(pid))
        except OSError as exc:
            logger.warning("could not confine pid %s in %s: %s", pid, group, exc)
            return None
        return group

    @staticmethod
    def _pids(group: Path) -> list[int]:
        try:
            return [int(x) for x in (group / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_members(self, group: Path) -> None:
        for pid in self._pids(group):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def kill_and_remove(self, group: Path) -> None:
        for _ in range(200):
            pids = self._pids(group)
            if not pids:
                try:
                    group.rmdir()  # an empty cgroup: a fast sysfs call
                    return
                except FileNotFoundError:
                    return
                except OSError:
                    pass  # zombies not reaped yet
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            await anyio.sleep(0.005)
        logger.warning("cgroup %s still holds processes after kill; leaving it", group)

    def close(self) -> None:
        try:
            for child in self.parent.iterdir():
                if child.is_dir():
                    child.rmdir()
            self.parent.rmdir()
        except OSError as exc:
            logger.debug("could not remove %s: %s", self.parent, exc)
