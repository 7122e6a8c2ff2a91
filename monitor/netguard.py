"""Which addresses a fetch may connect to, and the network backend that enforces it.

A feed URL comes from the config, but a redirect, a DNS answer or an odd spelling of an
address (``0x7f.1``, ``2130706433``, ``[::ffff:127.0.0.1]``) can point a fetch at this
machine, the local network or a cloud metadata service (169.254.169.254). So every
connection a fetch makes goes through :class:`GuardedBackend`, an httpcore network
backend, the one place where a host name becomes a socket:

1. it resolves the host itself (``getaddrinfo``, which also reads every numeric
   spelling the way the operating system would);
2. it judges every resolved address with :class:`AddressPolicy` and refuses the
   connection if any of them is not public and not allowed (an IPv4-mapped IPv6
   address, and a 6to4 or NAT64 one, is judged by the IPv4 address inside it);
3. it connects to the very address it judged, never to the name again, so a DNS answer
   that changes in between (DNS rebinding) cannot slip a different address in.

TLS still uses the host name (httpcore passes it as the SNI name and checks the
certificate against it), and the request still carries it in ``Host``. Redirects are
followed by :mod:`monitor.fetch`, and each hop connects through here again. Through a
proxy, the connection that is judged is the one to the proxy (the operator chose it);
the proxy resolves the feed's host, so only a feed host written as an address can be
judged then (:meth:`AddressPolicy.literal_refusal`).

``[network] allow`` lists addresses, networks and host names that are allowed anyway;
a host name entry allows that name whatever it resolves to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port, timeout) -> addresses; the system resolver unless a test gives another.
Resolver = Callable[[str, int, float | None], Awaitable[list[IPAddress]]]

_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")  # RFC 4193
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052


def embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def kind_of(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("a loopback address"), or None if public."""
    address = embedded_ipv4(address)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if isinstance(address, ipaddress.IPv4Address):
        if any(address in n for n in _PRIVATE):
            return "a private address"
        if address in _SHARED:
            return "a shared (carrier-grade NAT) address"
    elif address in _UNIQUE_LOCAL:
        return "a unique-local address"
    elif address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "a non-public address"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form the OS resolver reads as one, else None.

    ``[::1]``, ``127.0.0.1``, and the old inet_aton forms ``0x7f.1``, ``2130706433`` and
    ``017700000001`` are addresses; ``example.org`` is not.
    """
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if not text or any(c not in "0123456789abcdefxABCDEFX." for c in text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


class AddressRefused(Exception):
    """A connection to a non-public address that is not allowed (fetch.py translates it)."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        super().__init__(f"{host}: {address} is {kind}")
        self.host = host
        self.address = address
        self.kind = kind

    def sentence(self, hop: str | None = None) -> str:
        """The refusal as one sentence; ``hop`` is the redirect target that led there."""
        via = [] if self.host in (str(self.address), f"[{self.address}]") else [self.host]
        detail = f", the address of {via[0]}" if via else ""
        after = f" after a redirect to {hop}" if hop else ""
        return (
            f"refused to connect to {self.address} ({self.kind}{detail}){after};"
            " add it to [network] allow to fetch from it"
        )


def _allowed_network(entry: str) -> IPNetwork:
    network = ipaddress.ip_network(entry, strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:  # ::ffff:10.0.0.0/104 means 10.0.0.0/8
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public addresses are allowed; others only if ``[network] allow`` lists them."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> AddressPolicy:
        """A policy from ``[network] allow``: addresses, networks (CIDR) and host names."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in entries:
            try:
                networks.append(_allowed_network(entry))
            except ValueError:
                hosts.add(_name(entry))
        return cls(tuple(networks), frozenset(hosts))

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` is allowed by name, whatever it resolves to."""
        return _name(host) in self.hosts

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused ("a private address"), or None."""
        address = embedded_ipv4(address)
        kind = kind_of(address)
        if kind is None or any(address in n for n in self.networks):
            return None
        return kind

    def literal_refusal(self, host: str) -> AddressRefused | None:
        """The refusal for a URL host written as a refused address, else None (no DNS)."""
        address = literal_address(host)
        if address is None or self.host_allowed(host):
            return None
        kind = self.refusal(address)
        return None if kind is None else AddressRefused(host, embedded_ipv4(address), kind)


def _name(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    Raises (from ``connect_tcp``):
        AddressRefused: the host has an address that is not public and not allowed.
        httpcore.ConnectError, httpcore.ConnectTimeout: resolving or connecting failed.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        inner: httpcore.AsyncNetworkBackend,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy
        self._inner = inner
        self._resolve = resolver or resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        if not self.policy.host_allowed(host):
            # Every address, not only the first: a name that also resolves to a
            # private address is refused, whichever one would be tried first.
            for address in addresses:
                kind = self.policy.refusal(address)
                if kind is not None:
                    raise AddressRefused(host, embedded_ipv4(address), kind)
        error: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc  # try the next address, as a resolver-ordered fallback
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("feeds are never fetched over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates.

    Raises:
        httpcore.ConnectError: the name cannot be resolved.
        httpcore.ConnectTimeout: resolving took longer than ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise httpcore.ConnectError(f"cannot resolve {host}: {reason}") from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in addresses:
            addresses.append(address)
    return addresses
