"""Fetching feeds over HTTP: one shared client, one deadline, a streamed size cap."""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from types import TracebackType

import httpx

from monitor import __version__
from monitor.errors import FetchError
from monitor.records import FetchResult

USER_AGENT = f"newsmonitor/{__version__} (self-hosted feed monitor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json,"
    " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
MAX_REDIRECTS = 10
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How long a whole fetch may take and how many decoded bytes a body may have."""

    deadline: float = 30.0
    max_body: int = 10 * 1024 * 1024


class _BoundedDecoder:
    """Decompresses a body chunk by chunk, refusing to produce more than ``cap`` bytes.

    httpx decodes each network chunk in one unbounded call, so a small gzip bomb can
    expand to gigabytes before any cap is seen; here every call is bounded.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.parts: list[bytes] = []
        encodings = [e.strip().lower() for e in encoding.split(",") if e.strip()]
        encodings = [e for e in encodings if e != "identity"]
        self._deflate = encodings == ["deflate"]
        self._z: zlib._Decompress | None = None
        if encodings in (["gzip"], ["x-gzip"]):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encodings and not self._deflate:
            raise ValueError(f"the server used an unsupported content encoding {encoding!r}")

    def feed(self, chunk: bytes) -> None:
        if self._deflate and self._z is None:
            # "deflate" is zlib-wrapped by the RFC but raw in some servers: sniff the header.
            is_zlib = (
                len(chunk) >= 2 and (chunk[0] & 0x0F) == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
            )
            self._z = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)
        if self._z is None:
            self._add(chunk)
            return
        data = chunk
        while data:
            out = self._z.decompress(data, self.cap - self.size + 1)
            self._add(out)
            data = self._z.unconsumed_tail

    def finish(self) -> bytes:
        if self._z is not None:
            self._add(self._z.flush(self.cap - self.size + 1))
        return b"".join(self.parts)

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise OverflowError
        if data:
            self.parts.append(data)


def make_client(concurrency: int, user_agent: str | None = None) -> httpx.AsyncClient:
    """The one client every feed fetch shares (connection pool sized to the concurrency)."""
    return httpx.AsyncClient(
        headers={
            "User-Agent": user_agent or USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        },
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(30.0, connect=CONNECT_TIMEOUT),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        trust_env=False,
    )


class Fetcher:
    """Fetches feed bodies with conditional GET; one instance for the whole process."""

    def __init__(self, client: httpx.AsyncClient, limits: FetchLimits) -> None:
        self._client = client
        self._limits = limits

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET ``url``, conditional on the stored validators.

        Raises:
            FetchError: network failure, HTTP error status, deadline or size cap exceeded.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = self._limits.deadline
        try:
            # One deadline over the whole fetch: httpx's timeouts are per operation, so a
            # body trickling one byte at a time would never trip them.
            async with asyncio.timeout(deadline):
                return await self._get(url, headers)
        except TimeoutError:
            raise FetchError(url, f"the fetch took longer than {deadline:g} seconds") from None
        except httpx.TooManyRedirects:
            raise FetchError(url, f"more than {MAX_REDIRECTS} redirects") from None
        except httpx.ConnectError as exc:
            raise FetchError(url, f"could not connect ({_describe(exc)})") from None
        except httpx.TimeoutException:
            raise FetchError(url, "the server did not answer in time") from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"the transfer failed ({_describe(exc)})") from None

    async def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        async with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return FetchResult(
                    url=url,
                    not_modified=True,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
            if not 200 <= response.status_code < 300:
                phrase = response.reason_phrase or ""
                raise FetchError(
                    url, f"the server answered HTTP {response.status_code} {phrase}".rstrip()
                )
            body = await self._read(url, response)
            return FetchResult(
                url=url,
                not_modified=False,
                body=body,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                content_type=response.headers.get("content-type"),
                final_url=str(response.url),
            )

    async def _read(self, url: str, response: httpx.Response) -> bytes:
        cap = self._limits.max_body
        too_big = FetchError(url, f"the body is larger than the {cap} byte limit")
        try:
            decoder = _BoundedDecoder(response.headers.get("content-encoding", ""), cap)
        except ValueError as exc:
            raise FetchError(url, str(exc)) from None
        try:
            async for chunk in response.aiter_raw():
                decoder.feed(chunk)
            return decoder.finish()
        except OverflowError:
            raise too_big from None
        except zlib.error:
            raise FetchError(url, "the compressed body is corrupt") from None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__
