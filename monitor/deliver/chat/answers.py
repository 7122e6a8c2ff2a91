"""Reading a chat service's error answer: its own words, and a wait some services put in
the body rather than (or besides) a ``Retry-After`` header."""

from __future__ import annotations

from typing import Any

import httpx

from monitor.deliver.http import Hint


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's body as a JSON object, or an empty one when it is something else."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def detail(response: httpx.Response) -> str | None:
    """The service's own words about a failure: a JSON ``description``/``error``/``message``
    (Telegram, Matrix, ntfy, Discord, Mattermost, Teams) or a short text body (Slack)."""
    data = json_object(response)
    for key in ("description", "error", "message"):
        value = data.get(key)
        if isinstance(value, dict):  # Power Automate: {"error": {"code", "message"}}
            value = value.get("message")
        if isinstance(value, str) and value.strip():
            return value
    if not data and response.headers.get("content-type", "").startswith("text/plain"):
        return response.text.strip()[:200] or None
    return None


def explain(response: httpx.Response) -> Hint:
    """A :class:`Hint` with the service's words only (services whose 429 uses a header)."""
    return Hint(detail(response))


def seconds(value: object, scale: float = 1.0) -> float | None:
    """A number of seconds from a JSON value (``scale`` 0.001 for milliseconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) * scale
