"""Telling this machine's own network outage from broken feeds (pure, in-memory)."""

from __future__ import annotations

from typing import Literal

# This many connection failures in a row, on at least two hosts, with no answer from
# any server in between, and the machine is taken to be offline.
OFFLINE_AFTER = 3
OFFLINE_HOSTS = 2

Change = Literal["offline", "online"] | None


class Connectivity:
    """Watches fetch outcomes in order; while offline, connection failures are the
    machine's, not the feeds'."""

    def __init__(self) -> None:
        self.offline = False
        self._streak = 0
        self._hosts: set[str] = set()

    def observe(self, host: str, connected: bool) -> Change:
        """Record one fetch: ``connected`` if any server answered (even with an error).

        Returns ``"offline"`` or ``"online"`` when the state changes.
        """
        if connected:
            was = self.offline
            self.offline, self._streak, self._hosts = False, 0, set()
            return "online" if was else None
        self._streak += 1
        self._hosts.add(host)
        if not self.offline and self._streak >= OFFLINE_AFTER and len(self._hosts) >= OFFLINE_HOSTS:
            self.offline = True
            return "offline"
        return None
