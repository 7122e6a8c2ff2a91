"""Group commit: small writes from many concurrent polls, one transaction for many.

Every poll ends in a write: most in a small one (a 304's new poll time and
validators), a changed feed's in its new entries, hits and alerts. One transaction and
one worker-thread hop each would cost more than the fetch itself, so writes handed in
while a transaction is being written wait for the next one, and that one carries them
all. Each caller still learns its own outcome: when a write fails, the
others of its group are written again one transaction each, so one bad write never
takes the rest with it. A write may therefore run twice (its first run rolled back):
it must do nothing but database work in the session it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from monitor.store.db import Database

T = TypeVar("T")
Work = Callable[[Session], Any]
_Outcome = tuple[bool, Any]  # (succeeded, result or exception)

# Writes in one transaction at most: a transaction holds SQLite's write lock, and
# readers of other processes should not wait long behind it.
MAX_GROUP = 200


class GroupCommit:
    """Runs writes in shared transactions, in a worker thread, in the order handed in."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a transaction shared with others; its result, or its error.

        Raises:
            StoreError: the database refused this write.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        # Shielded: a poll cancelled at shutdown leaves its write to finish, not torn.
        return await asyncio.shield(future)

    async def _write_all(self) -> None:
        while self._pending:
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            outcomes = await asyncio.to_thread(self._write, [work for work, _ in group])
            for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _write(self, works: list[Work]) -> list[_Outcome]:
        if len(works) > 1:
            ok, results = _alone(self.db, lambda s: [work(s) for work in works])
            if ok:
                return [(True, result) for result in results]
            # One of them failed: each alone, so the others land and it fails by itself.
        return [_alone(self.db, work) for work in works]


def _alone(db: Database, work: Work) -> _Outcome:
    try:
        with db.transaction() as s:
            return True, work(s)
    except Exception as exc:  # handed to the caller waiting for this write
        return False, exc
