"""Sending one HTTP request for a channel, with its failures told in one sentence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import httpx

from monitor import policy
from monitor.errors import DeliveryError
from monitor.text import one_line

MAX_RETRY_AFTER = 6 * 3600.0


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header as seconds from ``now``, at most six hours (a chat service
    asking for longer is retried then); None when absent or unreadable."""
    delay = policy.retry_after(value, now)
    return min(delay.total_seconds(), MAX_RETRY_AFTER) if delay is not None else None


class Hint(NamedTuple):
    """What a service's error body adds: its own words, and the wait some services put
    there instead of (or besides) a ``Retry-After`` header."""

    detail: str | None = None
    retry_after: float | None = None


def permanent(status: int) -> bool:
    """4xx other than 408 (timeout) and 429 (too many requests) will not get better."""
    return 400 <= status < 500 and status not in (408, 429)


async def request(
    client: httpx.AsyncClient,
    channel: str,
    what: str,
    method: str,
    url: str,
    *,
    timeout: float,
    json: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    explain: Callable[[httpx.Response], Hint] | None = None,
) -> httpx.Response:
    """Send the request; a 2xx answer is returned, anything else raised.

    ``explain`` reads a failed answer's body (the service's message, a retry delay in the
    body); a ``Retry-After`` header wins over a delay from the body.

    Raises:
        DeliveryError: no connection, a timeout, or a non-2xx answer (permanent for 4xx
            other than 408/429; with the receiver's Retry-After when it sent one).
    """
    try:
        response = await client.request(
            method,
            url,
            json=json,
            content=content,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        reason = one_line(str(exc) or type(exc).__name__, 200)
        raise DeliveryError(channel, f"could not reach {what} ({reason})") from None
    if response.is_success:
        return response
    code = response.status_code
    hint = explain(response) if explain is not None else Hint()
    retry_after = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
    if retry_after is None and hint.retry_after is not None:
        retry_after = min(max(hint.retry_after, 0.0), MAX_RETRY_AFTER)
    reason = f"{what} answered HTTP {code} {one_line(response.reason_phrase, 60)}".rstrip()
    if hint.detail:
        reason += f": {one_line(hint.detail, 200)}"
    raise DeliveryError(channel, reason, permanent=permanent(code), retry_after=retry_after)
