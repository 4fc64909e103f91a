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
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def _children_by_scan(pid: int) -> list[int]:
    """Without CONFIG_PROC_CHILDREN: every process whose parent is ``pid``."""
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 1 and int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _children(pid: int) -> list[int]:
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        return _children_by_scan(pid)
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _sweep_stale(root: Path, ours: Path) -> None:
    """Remove the empty groups that servers which died without closing (kill -9, OOM, power loss) left under
    ``root``: the ``agenthost-sandbox-<pid>`` groups of pids no longer alive, and ours if this pid was theirs
    once (bubblewrap's ``--die-with-parent`` took their processes with the server; a group that still has
    members is left as it is). Left behind, they piled up, and a later server given the same pid could
    find a runner's group already there and run that runner without its pids limit."""
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith("agenthost-sandbox-")]
    except OSError:
        return
    for group in candidates:
        pid = group.name.removeprefix("agenthost-sandbox-")
        if not pid.isdigit():
            continue
        if group != ours:
            try:
                os.kill(int(pid), 0)
                continue  # a live server's (or a pid taken again since: left alone)
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        _remove_empty(group)


def _remove_empty(group: Path) -> None:
    """Remove ``group`` and its child groups where they hold no process (best effort)."""
    try:
        for child in group.iterdir():
            if child.is_dir():
                _remove_empty(child)
        group.rmdir()
    except OSError:
        pass


class PidsCgroups:
    def __init__(self, parent: Path) -> None:
        self.parent = parent

    @classmethod
    def open(cls, root: Path | None) -> PidsCgroups | None:
        if root is None:
            return None
        parent = root / f"agenthost-sandbox-{os.getpid()}"
        _sweep_stale(root, parent)
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
        """Move ``pid`` and every descendant it already has (bwrap's reaper and runner) into a new group.

        Each process is moved before its children are listed, so a child forked meanwhile is
        either listed or born inside the group.
        """
        group = f"{self.parent}/{pid}"  # strings, not Path: this runs for every runner started
        try:
            os.mkdir(group)
            if max_pids > 0:
                _write(f"{group}/pids.max", str(max_pids))
            procs = f"{group}/cgroup.procs"
            todo = [pid]
            while todo:
                current = todo.pop()
                try:
                    _write(procs, str(current))
                except ProcessLookupError:
                    continue
                todo.extend(_children(current))
        except OSError as exc:
            logger.warning("could not confine pid %s in %s: %s", pid, group, exc)
            return None
        return Path(group)

    @staticmethod
    def _pids(group: Path) -> list[int]:
        try:
            with open(f"{group}/cgroup.procs", "rb") as f:
                return [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []

    def kill_members(self, group: Path) -> None:
        for pid in self._pids(group):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill_and_remove(self, group: Path) -> None:
        """SIGKILL whatever ``group`` still holds and remove it once it is empty. Blocking (a worker thread's
        work): removing a group takes milliseconds on cgroup v1, and dead members stay listed until they are
        reaped, so this retries every 5 ms for up to a second, then leaves the group (logged)."""
        for _ in range(200):
            pids = self._pids(group)
            if not pids:
                try:
                    os.rmdir(group)
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
            time.sleep(0.005)
        logger.warning("cgroup %s still holds processes after kill; leaving it", group)

    def close(self) -> None:
        try:
            for child in self.parent.iterdir():
                if child.is_dir():
                    child.rmdir()
            self.parent.rmdir()
        except OSError as exc:
            logger.debug("could not remove %s: %s", self.parent, exc)
