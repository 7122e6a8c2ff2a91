"""The HTTP connection pools feed fetches share, every one of them address-guarded.

There is one small httpcore pool per host (name and port) and per address policy,
proxy and TLS setting, each connecting through :class:`monitor.netguard.GuardedBackend`.
Per host, because an httpcore pool scans all its connections for every request: one
pool for thousands of feeds on hundreds of hosts spent more CPU scanning than fetching,
and a shared cap on connections closed one host's idle connection for the next
host's request, so that nearly every fetch connected anew. The pools of hosts not
fetched lately are closed (least recently used first) beyond ``IDLE_POOLS`` per fetch
that may run at once, which bounds the sockets kept open.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpcore
import httpx

from monitor.netguard import AddressPolicy, GuardedBackend
from monitor.policy import host_of

KEEPALIVE_SECONDS = 5.0
IDLE_POOLS = 4  # idle hosts' pools kept, per fetch that may run at once

# The policy by identity: hashing it (every allowed network) for each request cost more
# than the lookup. Safe, as each pool's backend holds its policy alive.
_Key = tuple[int, str | None, bool, str]


class Connections:
    """Pools by (policy, proxy, verify_tls, host), made on first use, closed when idle
    for long beyond the limit, and all closed together."""

    def __init__(
        self,
        concurrency: int,
        backend: httpcore.AsyncNetworkBackend | None = None,
        per_host: int = 2,
    ) -> None:
        self._per_host = per_host
        self._keep = IDLE_POOLS * concurrency
        self._backend = backend or httpcore.AnyIOBackend()
        self._pools: OrderedDict[_Key, httpcore.AsyncConnectionPool] = OrderedDict()
        self._busy: Counter[_Key] = Counter()
        self._closing: set[asyncio.Task[None]] = set()
        self._contexts: dict[bool, ssl.SSLContext] = {}

    @asynccontextmanager
    async def stream(
        self,
        policy: AddressPolicy,
        proxy: str | None,
        verify_tls: bool,
        url: httpx.URL,
        headers: Sequence[tuple[bytes, bytes]],
        extensions: dict[str, object],
    ) -> AsyncIterator[httpcore.Response]:
        """GET ``url`` under ``policy``, through ``proxy`` (an http(s) URL); the response
        is open, its body not read, until the block ends.

        Raises:
            httpx.InvalidURL: the proxy URL cannot be read (config validates it first).
            httpcore errors: as ``AsyncConnectionPool.stream``.
        """
        key = (id(policy), proxy, verify_tls, host_of(str(url)))
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make(policy, proxy, verify_tls)
        self._pools.move_to_end(key)
        self._busy[key] += 1
        try:
            target = httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            )
            async with pool.stream(
                "GET", target, headers=list(headers), extensions=extensions
            ) as response:
                yield response
        finally:
            self._busy[key] -= 1
            if not self._busy[key]:
                del self._busy[key]
            self._forget_idle()

    def _forget_idle(self) -> None:
        """Close the least recently used pools that no fetch is using, beyond the limit."""
        excess = len(self._pools) - self._keep - len(self._busy)
        if excess <= 0:
            return
        for key in list(self._pools):
            if excess <= 0:
                break
            if key not in self._busy:
                task = asyncio.create_task(self._pools.pop(key).aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                excess -= 1

    @property
    def open_pools(self) -> int:
        """How many pools are open (tests check the limit)."""
        return len(self._pools)

    async def aclose(self) -> None:
        """Close every pool and its connections."""
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _make(
        self, policy: AddressPolicy, proxy: str | None, verify_tls: bool
    ) -> httpcore.AsyncConnectionPool:
        backend = GuardedBackend(policy, self._backend)
        if proxy is None:
            return httpcore.AsyncConnectionPool(
                ssl_context=self._context(verify_tls),
                max_connections=self._per_host,
                max_keepalive_connections=self._per_host,
                keepalive_expiry=KEEPALIVE_SECONDS,
                network_backend=backend,
            )
        url = httpx.URL(proxy)
        return httpcore.AsyncHTTPProxy(
            proxy_url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/"
            ),
            proxy_auth=(url.username, url.password) if url.username else None,
            ssl_context=self._context(verify_tls),
            # An https:// proxy itself is always verified: the operator chose it.
            proxy_ssl_context=self._context(True) if url.scheme == "https" else None,
            max_connections=self._per_host,
            max_keepalive_connections=self._per_host,
            keepalive_expiry=KEEPALIVE_SECONDS,
            network_backend=backend,
        )

    def _context(self, verify: bool) -> ssl.SSLContext:
        # Building a context loads the CA bundle: once per setting is enough.
        if verify not in self._contexts:
            self._contexts[verify] = httpx.create_ssl_context(verify=verify, trust_env=False)
        return self._contexts[verify]
