"""The outcome of one poll cycle, summed up for the log and the ``poll`` command."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.pipeline import PollOutcome
from monitor.text import plural


@dataclass(frozen=True, slots=True)
class CycleReport:
    """The outcome of polling a batch of feeds."""

    outcomes: tuple[PollOutcome, ...]

    @property
    def failed(self) -> int:
        return sum(o.error is not None for o in self.outcomes)

    @property
    def alerts(self) -> int:
        return sum(o.alerts for o in self.outcomes)

    def summary(self) -> str:
        o = self.outcomes
        return (
            f"polled {plural(len(o), 'feed')} ({sum(x.new_entries > 0 for x in o)} with new"
            f" entries, {sum(x.unchanged for x in o)} unchanged, {self.failed} failed):"
            f" {plural(sum(x.new_entries for x in o), 'new entry', 'new entries')},"
            f" {plural(sum(x.hits for x in o), 'hit')}, {plural(self.alerts, 'alert')} queued"
        )
