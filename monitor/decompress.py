"""Decoding a body's Content-Encoding (gzip, deflate, brotli) without ever exceeding a cap.

A few kilobytes of gzip or brotli can expand to gigabytes (a "bomb"), and a decoder
that is handed a network chunk in one unbounded call produces all of it before any cap
is seen. Here every call is bounded: zlib by ``max_length``, brotli by
``output_buffer_limit`` (brotli 1.2), so memory stays near the cap whatever arrives.
"""

from __future__ import annotations

import zlib

import brotli

ACCEPT_ENCODING = "gzip, deflate, br"


class CorruptBody(Exception):
    """The compressed body cannot be decoded (fetch.py translates it)."""


class BodyTooLarge(Exception):
    """The decoded body would be larger than the cap (fetch.py translates it)."""


class BoundedDecoder:
    """Decompresses a body chunk by chunk, refusing to produce more than ``cap`` bytes.

    Raises:
        ValueError: (at construction) an encoding other than gzip, deflate, br, identity.
        BodyTooLarge: from ``feed``/``finish``, once the output passes ``cap``.
        CorruptBody: from ``feed``/``finish``, for a body the codec cannot read.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.parts: list[bytes] = []
        encodings = [e.strip().lower() for e in encoding.split(",") if e.strip()]
        encodings = [e for e in encodings if e != "identity"]
        self._deflate = encodings == ["deflate"]
        self._z: zlib._Decompress | None = None
        self._br: brotli.Decompressor | None = None
        if encodings in (["gzip"], ["x-gzip"]):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encodings == ["br"]:
            self._br = brotli.Decompressor()
        elif encodings and not self._deflate:
            raise ValueError(f"the server used an unsupported content encoding {encoding!r}")

    def feed(self, chunk: bytes) -> None:
        """Decode one chunk of the body as it arrived."""
        if self._br is not None:
            self._feed_brotli(chunk)
            return
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
        try:
            while data:
                out = self._z.decompress(data, self._room())
                self._add(out)
                data = self._z.unconsumed_tail
        except zlib.error:
            raise CorruptBody from None

    def finish(self) -> bytes:
        """The whole decoded body, once the last chunk was fed."""
        if self._z is not None:
            try:
                self._add(self._z.flush(self._room()))
            except zlib.error:
                raise CorruptBody from None
        if self._br is not None and not self._br.is_finished():
            raise CorruptBody  # the brotli stream was cut short
        return b"".join(self.parts)

    def _feed_brotli(self, chunk: bytes) -> None:
        assert self._br is not None
        try:
            self._add(self._br.process(chunk, output_buffer_limit=self._room()))
            # With the limit reached, brotli keeps the rest of its output for calls with
            # empty input; it takes new input again only once that is drained.
            while not self._br.can_accept_more_data():
                self._add(self._br.process(b"", output_buffer_limit=self._room()))
        except brotli.error:
            raise CorruptBody from None

    def _room(self) -> int:
        # One byte more than the cap allows, so that going over is noticed.
        return self.cap - self.size + 1

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise BodyTooLarge
        if data:
            self.parts.append(data)
