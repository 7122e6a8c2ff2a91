"""Opening the database and migrating it; SQLite gets WAL mode and a busy timeout."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import monitor
from monitor.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 15_000
# The newest migration. A database already there is not handed to Alembic at all, which
# keeps Alembic's import (a fifth of a poll's start-up) off every start; a test checks
# that this is the head of alembic/versions.
SCHEMA_HEAD = "0009"


def migrations_folder() -> Path:
    """The Alembic scripts: packaged inside ``monitor`` when installed, else the checkout's."""
    here = Path(monitor.__file__).resolve().parent
    packaged = here / "_alembic"
    return packaged if packaged.is_dir() else here.parent / "alembic"


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        Raises:
            StoreError: the database refused the work.
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"the database refused the change ({_describe(exc)})") from exc

    def upgrade(self) -> None:
        """Migrate the schema to the newest version.

        Raises:
            StoreError: the migration failed.
        """
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(migrations_folder()))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot migrate the database at {self.describe()} ({_describe(exc)})"
            ) from exc

    def _at_head(self) -> bool:
        try:
            with self.engine.connect() as conn:
                versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except SQLAlchemyError:
            return False  # no version table yet, or unreadable: Alembic says what is wrong
        return [v for (v,) in versions] == [SCHEMA_HEAD]

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Values bound in one IN (...) at most: under every backend's limit on bound parameters.
IN_CHUNK = 500


def chunked(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most :data:`IN_CHUNK`, one statement each."""
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


def open_database(url: str) -> Database:
    """Open the database at ``url`` and migrate it to the newest schema.

    Raises:
        StoreError: it cannot be opened or migrated.
    """
    db = Database(url)
    try:
        db.upgrade()
    except BaseException:
        db.close()
        raise
    return db


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, a busy timeout and foreign keys.

    Raises:
        StoreError: the SQLite file's folder does not exist, or the driver is missing.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise StoreError(f"the database folder {folder} does not exist")
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(
            f"cannot use the database URL {parsed.render_as_string()} ({exc})"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is off (see _sqlite_pragmas) and BEGIN is
        # ours: IMMEDIATE takes the write lock up front, so a transaction that reads and
        # then writes waits for the busy timeout instead of failing with SQLITE_BUSY
        # when another writer got in between (SQLAlchemy docs, "Serializable isolation").
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
