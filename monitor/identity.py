"""Pure: an entry's identity within its feed, the same for every format."""

from __future__ import annotations

import hashlib


def entry_identity(guid: str | None, link: str | None, title: str, published: str | None) -> str:
    """An entry's identity within its feed: the guid/id, else the link, else a hash."""
    if guid and guid.strip():
        return guid.strip()
    if link and link.strip():
        return link.strip()
    digest = hashlib.sha256(f"{title}\x00{published or ''}".encode()).hexdigest()
    return f"sha256:{digest}"
