"""Checking a URL before it joins the feed list: one fetch, a parse, discovery on pages.

The fetch is the daemon's own (:class:`monitor.fetch.Fetcher` with the ``[network]``
timeout, body cap and User-Agent), so a URL that passes here is fetched the same way
when polled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor import fetch
from monitor.config import NetworkConfig
from monitor.connections import Connections
from monitor.discover import Discovered, decode_page, discover
from monitor.errors import FeedListError, FetchError, ParseError
from monitor.netguard import AddressPolicy
from monitor.parse import declares_entities, parse_feed
from monitor.records import FetchResult


@dataclass(frozen=True, slots=True)
class Found:
    """A URL that answers with a feed: its title and entry count as fetched just now.

    ``page`` is the HTML page it was discovered on, when that was the URL given;
    ``problem`` notes a feed that is read although it is not well-formed.
    """

    url: str
    title: str | None
    entries: int
    page: str | None = None
    problem: str | None = None


def _accept(_url: str) -> None:
    pass


async def check(
    url: str, network: NetworkConfig, vet: Callable[[str], None] = _accept
) -> Found | list[Discovered]:
    """Fetch ``url`` once: the feed it is, the one feed the page there advertises, or,
    when the page advertises several, all of them (for the user to choose).

    ``vet`` sees the URL of the one feed a page advertises before it is fetched, and
    may refuse it by raising (a feed that is listed already, say).

    Raises:
        FeedListError: the URL cannot be fetched, is neither a feed nor a page that
            advertises one, or the one feed it advertises cannot be fetched or read.
    """
    limits = fetch.FetchLimits(deadline=network.timeout.total_seconds(), max_body=network.max_body)
    policy = AddressPolicy.allowing(network.allow)
    connections = Connections(1)
    async with fetch.Fetcher(connections, limits, policy, network.user_agent) as fetcher:
        result = await _get(fetcher, url, None)
        try:
            return _read(result, url, None)
        except ParseError as exc:
            if declares_entities(result.body):
                raise FeedListError(f"cannot add {url}: {exc.reason}.") from None
            advertised = discover(
                decode_page(result.body, result.content_type), result.final_url or url
            )
            if not advertised:
                raise FeedListError(
                    f"{url} is neither a feed nor a page that advertises one ({exc.reason})."
                ) from None
        if len(advertised) > 1:
            return advertised
        (only,) = advertised
        vet(only.url)
        second = await _get(fetcher, only.url, url)
        try:
            return _read(second, only.url, url)
        except ParseError as exc:
            raise FeedListError(
                f"cannot add {only.url} (advertised by {url}): {exc.reason}."
            ) from None


async def _get(fetcher: fetch.Fetcher, url: str, page: str | None) -> FetchResult:
    try:
        return await fetcher.fetch(url)
    except FetchError as exc:
        where = f" (advertised by {page})" if page else ""
        raise FeedListError(f"cannot fetch {url}{where}: {exc.reason}.") from None


def _read(result: FetchResult, url: str, page: str | None) -> Found:
    parsed = parse_feed(result.body, url, result.content_type)
    return Found(url, parsed.title, len(parsed.entries), page, parsed.problem)
