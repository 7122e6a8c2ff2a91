"""Fetching feeds over HTTP: guarded connections, our own redirects, one deadline, caps.

A fetch is a conditional GET (ETag and Last-Modified, RFC 9110 13.1) on an httpcore
pool from :class:`monitor.connections.Connections`. Every connection it opens goes
through :class:`monitor.netguard.GuardedBackend`, which resolves the host itself,
refuses any address that is not public unless ``[network] allow`` lists it, and
connects to the address it checked (so DNS rebinding and odd spellings of 127.0.0.1
cannot get past it). Redirects are followed here rather than by the HTTP library, so
that each hop is checked the same way: at most :data:`MAX_REDIRECTS`, a loop is an
error, a relative ``Location`` is resolved against the URL that gave it, and a feed's
own headers and credentials go only to the feed's host.

Limits: connecting may take :data:`CONNECT_TIMEOUT`, each read :data:`READ_TIMEOUT`,
and the whole fetch, redirects and a trickling body included, ``FetchLimits.deadline``
(``[network] timeout`` or the feed's ``timeout``). The body is streamed and decoded
(gzip, deflate, brotli) under a cap on its decoded size, and hashed (SHA-256) so that
the pipeline can skip a body it has already read.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
from dataclasses import dataclass
from types import TracebackType

import httpcore
import httpx

from monitor import __version__
from monitor.connections import Connections
from monitor.decompress import ACCEPT_ENCODING, BodyTooLarge, BoundedDecoder, CorruptBody
from monitor.errors import FetchError
from monitor.netguard import AddressPolicy, AddressRefused
from monitor.records import FetchOptions, FetchResult

USER_AGENT = f"newsmonitor/{__version__} (self-hosted feed monitor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json,"
    " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
MAX_REDIRECTS = 10
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
NO_OPTIONS = FetchOptions()
PUBLIC_ONLY = AddressPolicy()  # nothing allowed beyond public addresses


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How long a whole fetch may take and how many decoded bytes a body may have."""

    deadline: float = 30.0
    max_body: int = 10 * 1024 * 1024


class Fetcher:
    """Fetches feed bodies with conditional GET; one instance for the whole process.

    ``policy`` says which non-public addresses may be connected to (none by default);
    ``user_agent`` replaces the built-in User-Agent (``[network] user_agent``).
    """

    def __init__(
        self,
        connections: Connections,
        limits: FetchLimits = FetchLimits(),
        policy: AddressPolicy = PUBLIC_ONLY,
        user_agent: str | None = None,
    ) -> None:
        self._connections = connections
        self._limits = limits
        self._policy = policy
        self._user_agent = user_agent or USER_AGENT

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._connections.aclose()

    async def fetch(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        options: FetchOptions = NO_OPTIONS,
    ) -> FetchResult:
        """GET ``url``, conditional on the stored validators, with the feed's options.

        Raises:
            FetchError: a refused address, network failure, HTTP error status, too many
                or looping redirects, deadline or size cap exceeded.
        """
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        deadline = options.timeout or self._limits.deadline
        try:
            # One deadline over the whole fetch: httpcore's timeouts are per operation, so
            # a body trickling one byte at a time would never trip them.
            async with asyncio.timeout(deadline):
                return await self._follow(url, conditional, options, deadline)
        except TimeoutError:
            raise FetchError(url, f"the fetch took longer than {deadline:g} seconds") from None
        except httpcore.ConnectTimeout as exc:
            raise FetchError(url, f"could not connect ({_describe(exc)})", network=True) from None
        except httpcore.TimeoutException:
            raise FetchError(url, "the server did not answer in time") from None
        except httpcore.ProxyError as exc:
            raise FetchError(url, f"the proxy failed ({_describe(exc)})") from None
        except httpcore.ConnectError as exc:
            raise FetchError(url, f"could not connect ({_describe(exc)})", network=True) from None
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise FetchError(url, f"the transfer failed ({_describe(exc)})") from None
        except (httpx.InvalidURL, httpcore.UnsupportedProtocol) as exc:
            raise FetchError(url, f"the URL cannot be fetched ({_describe(exc)})") from None

    async def _follow(
        self, url: str, conditional: dict[str, str], options: FetchOptions, deadline: float
    ) -> FetchResult:
        origin = current = httpx.URL(url)
        seen = {current}
        hops: list[int] = []
        while True:
            hop = str(current) if hops else None
            try:
                refused = self._policy.literal_refusal(current.host)
                if refused is not None:  # also through a proxy, which resolves names itself
                    raise refused
                headers = self._headers(origin, current, conditional, options)
                async with self._connections.stream(
                    self._policy,
                    options.proxy,
                    options.verify_tls,
                    current,
                    headers,
                    _extensions(deadline),
                ) as response:
                    if response.status not in REDIRECTS:
                        final = str(current) if hops else None
                        return await self._result(url, response, final, hops)
                    target = _redirect_target(url, current, response)
            except AddressRefused as exc:
                raise FetchError(url, exc.sentence(hop)) from None
            if len(hops) >= MAX_REDIRECTS:
                raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")
            if target in seen:
                raise FetchError(url, f"the redirects go round in a loop (back to {target})")
            seen.add(target)
            hops.append(response.status)
            current = target

    def _headers(
        self,
        origin: httpx.URL,
        current: httpx.URL,
        conditional: dict[str, str],
        options: FetchOptions,
    ) -> list[tuple[bytes, bytes]]:
        headers = httpx.Headers(
            {"User-Agent": self._user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
        )
        # The feed's own headers and credentials may be secrets: only for its own site.
        if _same_site(origin, current):
            for name, value in options.headers:
                headers[name] = value
            username, password = options.username, options.password
            if username is None and origin.username:
                username, password = origin.username, origin.password
            if username is not None:
                token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
        if options.user_agent:
            headers["User-Agent"] = options.user_agent
        headers.update(conditional)
        return headers.raw

    async def _result(
        self, url: str, response: httpcore.Response, final_url: str | None, hops: list[int]
    ) -> FetchResult:
        headers = httpx.Headers(response.headers)
        permanent = bool(hops) and all(s in PERMANENT for s in hops)
        status = response.status
        if not 200 <= status < 300 and status != 304:
            phrase = httpx.codes.get_reason_phrase(status)
            raise FetchError(
                url,
                f"the server answered HTTP {status} {phrase}".rstrip(),
                status=status,
                retry_after=headers.get("retry-after") if status in (429, 503) else None,
            )
        result = FetchResult(
            url=url,
            not_modified=status == 304,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            cache_control=headers.get("cache-control"),
            expires=headers.get("expires"),
            date=headers.get("date"),
            final_url=final_url,
            permanent_redirect=permanent,
        )
        if result.not_modified:
            # A 304 has no body (RFC 9110), but reading its end is what returns the
            # connection to the pool: unread, it is closed, and the next poll of this
            # host connects anew.
            await response.aread()
            return result
        body = await self._read(url, response, headers.get("content-encoding", ""))
        return dataclasses.replace(
            result,
            body=body,
            content_type=headers.get("content-type"),
            body_hash=hashlib.sha256(body).hexdigest(),
        )

    async def _read(self, url: str, response: httpcore.Response, encoding: str) -> bytes:
        cap = self._limits.max_body
        try:
            decoder = BoundedDecoder(encoding, cap)
        except ValueError as exc:
            raise FetchError(url, str(exc)) from None
        try:
            async for chunk in response.aiter_stream():
                decoder.feed(chunk)
            return decoder.finish()
        except BodyTooLarge:
            raise FetchError(url, f"the body is larger than the {cap} byte limit") from None
        except CorruptBody:
            raise FetchError(url, "the compressed body is corrupt") from None


def _extensions(deadline: float) -> dict[str, object]:
    """httpcore's per-operation timeouts; the pool wait is bounded by the deadline alone."""
    connect = min(CONNECT_TIMEOUT, deadline)
    timeouts = {"connect": connect, "read": READ_TIMEOUT, "write": READ_TIMEOUT, "pool": None}
    return {"timeout": timeouts}


def _redirect_target(url: str, current: httpx.URL, response: httpcore.Response) -> httpx.URL:
    """Where a redirect leads: its Location, resolved against the URL that gave it.

    Raises:
        FetchError: no Location, an unreadable one, or one that is not http(s).
    """
    status = response.status
    location = httpx.Headers(response.headers).get("location", "").strip()
    if not location:
        raise FetchError(url, f"the server answered HTTP {status} without a Location to go to")
    try:
        target = current.join(location).copy_with(fragment=None)
    except httpx.InvalidURL:
        raise FetchError(url, f"a redirect (HTTP {status}) leads to an unreadable URL") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(url, f"a redirect (HTTP {status}) leads to {target}, not an http(s) URL")
    return target


def _same_site(origin: httpx.URL, other: httpx.URL) -> bool:
    """Same host and port, or the same host moved from http to https (as httpx allows)."""
    if origin.host != other.host:
        return False
    if origin.scheme == other.scheme:
        return origin.port == other.port
    upgrade = origin.scheme == "http" and other.scheme == "https"
    return upgrade and origin.port is None and other.port is None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__
