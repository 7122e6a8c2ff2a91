"""Garbage collector settings for a process that has finished starting.

A poll allocates far more objects than the collector's default of 700 between two
collections of its youngest generation, nearly all freed by reference counting, and
each full collection would visit everything the process imported. So once a command
is resolved and imported, what exists is frozen (never visited again: it lives as long
as the process) and the youngest generation is collected every ``YOUNG`` objects.
At 1000 unchanged feeds the collector's share of a pass went from 0.09 s to 0.015 s.
(Parser processes keep the defaults: there the same settings made parsing slower,
9.8 against 9.3 ms a feed.)
"""

from __future__ import annotations

import gc

YOUNG = 10_000


def settle() -> None:
    """Freeze what exists now and collect the youngest generation less often."""
    gc.freeze()
    gc.set_threshold(YOUNG)
