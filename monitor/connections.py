"""The HTTP connection pools feed fetches share, every one of them address-guarded.

There is one httpcore pool per address policy, proxy and TLS setting (most processes
need only one), each connecting through :class:`monitor.netguard.GuardedBackend`.
"""

from __future__ import annotations

import ssl

import httpcore
import httpx

from monitor.netguard import AddressPolicy, GuardedBackend

KEEPALIVE_SECONDS = 5.0
# Idle connections kept for reuse, per fetch that may run at once: fetches spread over
# many hosts, and with no more idle connections than fetches at once nearly every fetch
# finds its host's connection closed to make room and connects anew.
IDLE_PER_CONCURRENT = 4

_Key = tuple[AddressPolicy, str | None, bool]


class Connections:
    """Pools by (policy, proxy, verify_tls), made on first use and closed together."""

    def __init__(
        self, concurrency: int, backend: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._concurrency = concurrency
        self._idle = IDLE_PER_CONCURRENT * concurrency
        self._backend = backend or httpcore.AnyIOBackend()
        self._pools: dict[_Key, httpcore.AsyncConnectionPool] = {}
        self._contexts: dict[bool, ssl.SSLContext] = {}

    def pool(
        self, policy: AddressPolicy, proxy: str | None = None, verify_tls: bool = True
    ) -> httpcore.AsyncConnectionPool:
        """The pool for fetches under ``policy``, through ``proxy`` (an http(s) URL).

        Raises:
            httpx.InvalidURL: the proxy URL cannot be read (config validates it first).
        """
        key = (policy, proxy, verify_tls)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make(*key)
        return pool

    async def aclose(self) -> None:
        """Close every pool and its connections."""
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    def _make(
        self, policy: AddressPolicy, proxy: str | None, verify_tls: bool
    ) -> httpcore.AsyncConnectionPool:
        backend = GuardedBackend(policy, self._backend)
        if proxy is None:
            return httpcore.AsyncConnectionPool(
                ssl_context=self._context(verify_tls),
                max_connections=self._idle + self._concurrency,
                max_keepalive_connections=self._idle,
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
            max_connections=self._concurrency,
            max_keepalive_connections=self._concurrency,
            keepalive_expiry=KEEPALIVE_SECONDS,
            network_backend=backend,
        )

    def _context(self, verify: bool) -> ssl.SSLContext:
        # Building a context loads the CA bundle: once per setting is enough.
        if verify not in self._contexts:
            self._contexts[verify] = httpx.create_ssl_context(verify=verify, trust_env=False)
        return self._contexts[verify]
