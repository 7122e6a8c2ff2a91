"""The Starlette app: ``/healthz`` and ``/metrics``, behind an optional bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
MetricsText = Callable[[], Awaitable[bytes]]


class _BearerToken(BaseHTTPMiddleware):
    """Every request must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self._expected = f"Bearer {token}".encode()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, self._expected):
            return JSONResponse(
                {"error": "a valid bearer token is required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)


def make_app(health: HealthCheck, metrics: MetricsText, token: str | None = None) -> Starlette:
    """The app; ``health`` says whether the daemon is healthy and why, ``metrics`` renders
    the Prometheus text."""

    async def healthz(_request: Request) -> Response:
        ok, detail = await health()
        return JSONResponse(
            {"status": "ok" if ok else "unhealthy", **detail}, status_code=200 if ok else 503
        )

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(await metrics(), media_type=CONTENT_TYPE_LATEST)

    middleware = [Middleware(_BearerToken, token=token)] if token else []
    return Starlette(
        routes=[Route("/healthz", healthz), Route("/metrics", metrics_endpoint)],
        middleware=middleware,
    )
