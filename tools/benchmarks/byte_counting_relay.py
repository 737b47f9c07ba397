"""A TCP relay on 127.0.0.1 in front of the registry that counts the bytes each way (fresh_runner.py).

Nothing is simulated: the engine talks HTTP to the real registry through it, so a push through it says how
much it uploaded, and when.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# `tests` is first-party only when ruff runs with tests/ in its sandbox: in a block of its own, it sorts the
# same either way.
# isort: split
from repo_testing.tcp_relay import TcpRelay

ACTIVITY_RESOLUTION_S = 0.1


@dataclass(frozen=True)
class Traffic:
    """Bytes relayed since the last reset; ``active``: start times of the 0.1 s slots with traffic."""

    uploaded: int = 0  # client -> registry
    downloaded: int = 0  # registry -> client
    active: tuple[float, ...] = ()


class ByteCountingRelay(TcpRelay):
    def __init__(self, backend_port: int) -> None:
        self._lock = threading.Lock()
        self._uploaded = self._downloaded = 0
        self._slots: set[int] = set()
        super().__init__(backend_port)

    def reset(self) -> None:
        with self._lock:
            self._uploaded = self._downloaded = 0
            self._slots = set()

    def traffic(self) -> Traffic:
        with self._lock:
            slots = sorted(self._slots)
            return Traffic(
                self._uploaded, self._downloaded, tuple(slot * ACTIVITY_RESOLUTION_S for slot in slots)
            )

    def on_chunk(self, data: bytes, upstream: bool) -> bool:
        slot = int(time.time() / ACTIVITY_RESOLUTION_S)
        with self._lock:
            if upstream:
                self._uploaded += len(data)
            else:
                self._downloaded += len(data)
            self._slots.add(slot)
        return True
