"""Prometheus metrics of one daemon process (its own registry, not the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.store.summary import Snapshot

PREFIX = "newsmonitor"


class Metrics:
    """Counters fed by poll and delivery outcomes; gauges set from a database snapshot."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.fetches = Counter(
            f"{PREFIX}_fetches",
            "Feed fetches by outcome (ok, not_modified, error).",
            ["outcome"],
            registry=r,
        )
        self.fetch_seconds = Histogram(
            f"{PREFIX}_fetch_duration_seconds",
            "Time to fetch one feed, body included.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.entries = Counter(
            f"{PREFIX}_entries_parsed", "Entries read from fetched feeds.", registry=r
        )
        self.new_entries = Counter(
            f"{PREFIX}_entries_new", "Entries seen for the first time.", registry=r
        )
        self.hits = Counter(f"{PREFIX}_hits", "Hits stored, by rule.", ["rule"], registry=r)
        self.alerts_sent = Counter(
            f"{PREFIX}_alerts_sent", "Alerts delivered, by channel.", ["channel"], registry=r
        )
        self.alerts_failed = Counter(
            f"{PREFIX}_alerts_failed",
            "Failed delivery attempts, by channel.",
            ["channel"],
            registry=r,
        )
        self.alerts_pending = Gauge(
            f"{PREFIX}_alerts_pending", "Alerts waiting to be delivered.", registry=r
        )
        self.alerts_failed_rows = Gauge(
            f"{PREFIX}_alerts_given_up", "Alerts marked failed (no more retries).", registry=r
        )
        self.oldest_pending = Gauge(
            f"{PREFIX}_oldest_pending_alert_age_seconds",
            "Age of the oldest pending alert (0 if none).",
            registry=r,
        )
        self.feeds_failing = Gauge(
            f"{PREFIX}_feeds_failing", "Feeds whose last poll failed.", registry=r
        )
        self.feeds_ok = Gauge(f"{PREFIX}_feeds_ok", "Feeds whose last poll succeeded.", registry=r)
        self.feeds_unhealthy = Gauge(
            f"{PREFIX}_feeds_unhealthy",
            "Feeds the health check judged unhealthy (failing or silent too long).",
            registry=r,
        )

    def observe_fetch(self, outcome: str, seconds: float | None) -> None:
        self.fetches.labels(outcome).inc()
        if seconds is not None:
            self.fetch_seconds.observe(seconds)

    def set_snapshot(self, snap: Snapshot) -> None:
        self.alerts_pending.set(snap.alerts_pending)
        self.alerts_failed_rows.set(snap.alerts_failed)
        self.oldest_pending.set(snap.oldest_pending_age or 0)
        self.feeds_failing.set(snap.feeds_failing)
        self.feeds_ok.set(snap.feeds_ok)
        self.feeds_unhealthy.set(snap.feeds_unhealthy)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
