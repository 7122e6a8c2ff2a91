"""Group commit: concurrent small writes share transactions, and each caller still gets
its own result or its own error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.errors import StoreError
from monitor.store import feeds
from monitor.store.batch import MAX_GROUP, GroupCommit
from monitor.store.db import open_database
from monitor.store.tables import Feed

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_concurrent_writes_share_transactions_and_each_gets_its_result(tmp_path: Path) -> None:
    urls = [f"http://127.0.0.1:8080/{i}.xml" for i in range(500)]
    with open_database(f"sqlite:///{tmp_path / 'b.db'}") as db:
        with db.transaction() as s:
            feeds.sync(s, [(u, None) for u in urls], NOW)
            states = feeds.active(s)
        transactions = 0
        original = db.transaction

        def counted():  # type: ignore[no-untyped-def]
            nonlocal transactions
            transactions += 1
            return original()

        db.transaction = counted  # type: ignore[method-assign]
        writes = GroupCommit(db)

        async def one(i: int, feed_id: int) -> int:
            def work(s: Session) -> int:
                feeds.mark_success(s, feed_id, NOW, NOW + timedelta(minutes=i), f'"e{i}"', None)
                return i

            return await writes.run(work)

        async def run() -> list[int]:
            return await asyncio.gather(*(one(i, f.id) for i, f in enumerate(states)))

        results = asyncio.run(run())
        db.transaction = original  # type: ignore[method-assign]
        assert results == list(range(500))
        # Grouped: far fewer transactions than writes, none larger than MAX_GROUP.
        assert 500 / MAX_GROUP <= transactions < 50
        with db.transaction() as s:
            etags = {url: etag for url, etag in s.execute(select(Feed.url, Feed.etag))}
        assert etags == {u: f'"e{i}"' for i, u in enumerate(urls)}


def test_one_failing_write_fails_alone(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 'b.db'}") as db:
        with db.transaction() as s:
            feeds.sync(s, [(f"http://127.0.0.1/{i}", None) for i in range(20)], NOW)
            states = feeds.active(s)
        writes = GroupCommit(db)

        async def one(i: int, feed_id: int) -> None:
            def work(s: Session) -> None:
                if i == 7:
                    s.execute(select(Feed).where(Feed.nothing_here == 1))  # type: ignore[attr-defined]
                feeds.mark_success(s, feed_id, NOW, NOW, f'"e{i}"', None)

            await writes.run(work)

        async def run() -> list[BaseException | None]:
            return await asyncio.gather(
                *(one(i, f.id) for i, f in enumerate(states)), return_exceptions=True
            )

        outcomes = asyncio.run(run())
        assert [i for i, o in enumerate(outcomes) if o is not None] == [7]
        assert isinstance(outcomes[7], AttributeError)
        with db.transaction() as s:
            stored = {e for (e,) in s.execute(select(Feed.etag)).all()}
        assert stored == {f'"e{i}"' for i in range(20) if i != 7} | {None}


def test_a_write_the_database_refuses_raises_store_error(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 'b.db'}") as db:
        writes = GroupCommit(db)

        def work(s: Session) -> None:
            s.execute(Feed.__table__.insert().values(id=1))  # NOT NULL columns missing

        with pytest.raises(StoreError, match="the database refused the change"):
            asyncio.run(writes.run(work))
