"""``serve --workers N``: N uvicorn worker processes, each accepting on a listening socket of its own.

All N sockets are bound to the one port with ``SO_REUSEPORT``, so the kernel spreads new connections over
the workers (by a hash of each connection's addresses). With one socket shared by all workers, the worker
that woke first accepted every connection waiting at that moment: a client opening its keep-alive
connections together (a connection pool) had them all served by one worker while the others idled.

Each worker slot keeps its socket for good: a worker that dies is replaced on the same socket (the
supervisor holds them all open meanwhile, so connections hashed to it wait in its backlog), and a restart
(SIGHUP) replaces the workers one at a time on theirs. Changing the number of workers at run time (SIGTTIN,
SIGTTOU) is refused: a socket without a worker would hold its share of connections unanswered.
"""

from __future__ import annotations

import logging
import socket

from uvicorn import Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


class SocketPerWorker(Multiprocess):
    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        if len(sockets) != config.workers:
            raise ValueError(f"one socket per worker: {len(sockets)} sockets for {config.workers} workers")
        self._own = sockets
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        """The socket of the worker being started: the next slot never filled, else the first slot whose
        process has exited (uvicorn reads this attribute exactly when it starts a worker)."""
        filled = len(self.processes)
        if filled < len(self._own):
            return [self._own[filled]]
        for slot, process in enumerate(self.processes):
            if not process.process.is_alive():
                return [self._own[slot]]
        raise RuntimeError("every worker slot has a live worker")

    @sockets.setter
    def sockets(self, _value: list[socket.socket]) -> None:  # (uvicorn's __init__ assigns the shared list)
        pass

    def restart_all(self) -> None:
        """Replace each worker in turn on its own socket (the old one first stops: its slot frees)."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            old.terminate()
            old.join()
            new = Process(self.config, [self._own[slot]])
            new.start()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        logger.warning("Received SIGTTIN: the number of workers is fixed (one listening socket each)")

    def handle_ttou(self) -> None:
        logger.warning("Received SIGTTOU: the number of workers is fixed (one listening socket each)")


__all__ = ["SocketPerWorker"]
