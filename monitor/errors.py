"""The errors newsmonitor raises; ``str()`` of each is one plain sentence.

Tree::

    MonitorError
     +-- ConfigError      the config file is missing, unreadable or invalid
     +-- FetchError       a feed could not be fetched (network, HTTP status, limits)
     +-- ParseError       a fetched body holds no readable feed
     +-- StoreError       the database could not be opened, migrated or written
     +-- FeedListError    a feed-list change cannot be made (listed already, not found, bad OPML)
     +-- DeliveryError    an alert could not be sent to a channel

Foreign exceptions are translated once, at the edge that meets them
(``raise FetchError(...) from exc``), so callers only ever see these.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error newsmonitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration cannot be used; the message names file, key and problem."""


class FetchError(MonitorError):
    """A feed could not be fetched.

    ``status`` is the HTTP status of an error answer; ``retry_after`` the raw
    ``Retry-After`` header of a 429 or 503; ``network`` is true when no connection could
    be made at all (DNS, refused, unreachable): a sign the machine may be offline.
    """

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        network: bool = False,
    ) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.network = network


class ParseError(MonitorError):
    """A fetched body holds no readable feed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:
        # Raised in parser processes: it must come back through pickle whole.
        return ParseError, (self.url, self.reason)


class StoreError(MonitorError):
    """The database could not be opened, migrated or written."""


class FeedListError(MonitorError):
    """A change to the feed list cannot be made: the feed is listed already or not at all,
    a page advertises no feed or several, or an OPML file cannot be read."""


class DeliveryError(MonitorError):
    """An alert could not be delivered to a channel."""

    def __init__(
        self,
        channel: str,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.channel = channel
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the receiver asked us to wait
