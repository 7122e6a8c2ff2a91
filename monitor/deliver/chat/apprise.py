"""Any other service, through an Apprise URL (``tgram://``, ``pover://``, ``json://`` ...).

Apprise is synchronous, so it runs in a worker thread, with the channel's timeout on its
sockets and on the wait (a thread cannot be stopped: one that outlives the wait ends by
its socket timeouts, and may still deliver, so the retry can repeat it). It reports only
success or failure, so a failure says no more than that (Apprise's own log line has the
detail), and it is retried like a network error. Apprise takes no idempotency key.
"""

from __future__ import annotations

import asyncio

import apprise

from monitor.config import AppriseChannel
from monitor.deliver.chat import prepare
from monitor.deliver.chat.fit import split_title
from monitor.errors import ConfigError, DeliveryError
from monitor.records import Outbound


def title_and_body(message: Outbound, template: str | None = None) -> tuple[str, str]:
    """Plain title and body (the ntfy template: first line, then the rest).

    Feed text is defused: some Apprise plugins turn text into pings (Discord's makes
    ``@everyone`` an allowed mention, Slack's re-creates ``<!channel>``).
    """
    title, body = split_title(
        prepare.render("plain", "ntfy.j2", message, template, defuse_mentions=True)
    )
    return title, body or title


class AppriseSender:
    """One Apprise URL."""

    def __init__(self, name: str, config: AppriseChannel) -> None:
        self.name = name
        self.config = config
        if self._service() is None:
            # The URL carries credentials: name the channel, not the URL.
            raise ConfigError(f"channels.{name}.url: Apprise does not recognise this URL.")

    def _service(self) -> apprise.NotifyBase | None:
        return apprise.Apprise.instantiate(self.config.url.get_secret_value())

    async def send(self, message: Outbound) -> None:
        """Notify through Apprise.

        Raises:
            DeliveryError: Apprise reported a failure, or did not finish in time.
        """
        title, body = title_and_body(message, self.config.template)
        timeout = self.config.timeout.total_seconds()
        try:
            sent = await asyncio.wait_for(asyncio.to_thread(self._notify, title, body), timeout)
        except TimeoutError:
            raise DeliveryError(
                self.name, f"Apprise did not finish within {timeout:g} seconds"
            ) from None
        if not sent:
            raise DeliveryError(
                self.name,
                "the Apprise service did not accept the message (Apprise gives no reason)",
            )

    def _notify(self, title: str, body: str) -> bool:
        # A fresh plugin per message: no throttle state or connection shared across threads.
        service = self._service()
        if service is None:
            return False
        service.socket_connect_timeout = service.socket_read_timeout = (
            self.config.timeout.total_seconds()
        )
        return bool(service.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
