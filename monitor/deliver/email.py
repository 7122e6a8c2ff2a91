"""Sending alerts by SMTP (plain, STARTTLS or implicit TLS; AUTH only with credentials)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage

from monitor.config import EmailChannel
from monitor.deliver.render import email_message
from monitor.errors import DeliveryError
from monitor.records import Outbound
from monitor.text import one_line


class EmailSender:
    """One email channel; smtplib runs in a worker thread so the event loop stays free."""

    def __init__(self, name: str, config: EmailChannel) -> None:
        self.name = name
        self.config = config

    async def send(self, message: Outbound) -> None:
        """Send one alert, or a digest, as one email.

        Raises:
            DeliveryError: the server could not be reached or refused the message.
        """
        cfg = self.config
        msg = email_message(message, cfg.from_, cfg.to, datetime.now(UTC), cfg.template)
        await asyncio.to_thread(self._send, msg)

    def _tls(self) -> ssl.SSLContext:
        # ca_file: a private CA (a self-hosted relay), else the system's trust store.
        return ssl.create_default_context(cafile=self.config.ca_file)

    def _send(self, msg: EmailMessage) -> None:
        cfg = self.config
        host, port, timeout = cfg.host, cfg.effective_port, cfg.timeout.total_seconds()
        try:
            if cfg.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=self._tls()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if cfg.security == "starttls":
                    smtp.starttls(context=self._tls())
                if cfg.username:
                    password = cfg.password.get_secret_value() if cfg.password else ""
                    smtp.login(cfg.username, password)
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise DeliveryError(
                self.name,
                f"the mail server {host}:{port} answered {exc.smtp_code} {one_line(text, 200)}",
                permanent=500 <= exc.smtp_code < 600,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                self.name,
                f"the mail server {host}:{port} refused the recipients {', '.join(exc.recipients)}",
                permanent=True,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            detail = one_line(str(exc) or type(exc).__name__, 200)
            raise DeliveryError(
                self.name,
                f"could not send mail through {host}:{port} ({detail})",
            ) from None
