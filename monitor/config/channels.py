"""The ``[channels.NAME]`` models: one per service, with the delivery options all share."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor.config.values import (
    _RATE,
    HttpURL,
    PositiveDuration,
    SendTimeout,
    _as_list,
    _Model,
    _quiet_hours,
    _rate_limit,
    _time_zone,
    parse_clock,
    parse_duration,
)


class _ChannelBase(_Model):
    """What every channel accepts besides its own keys."""

    timeout: SendTimeout = timedelta(seconds=30)
    template: str | None = None
    mode: Literal["immediate", "digest"] = "immediate"
    digest_every: PositiveDuration | None = None
    digest_at: str | None = None
    timezone: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    quiet_hours: Annotated[str, AfterValidator(_quiet_hours)] | None = None
    rate_limit: Annotated[str, AfterValidator(_rate_limit)] | None = None
    give_up_after: PositiveDuration = timedelta(days=1)

    @field_validator("digest_at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            parse_clock(value)
        return value

    @model_validator(mode="after")
    def _digest_schedule(self) -> _ChannelBase:
        if self.mode == "digest" and (self.digest_every is None) == (self.digest_at is None):
            raise ValueError("mode digest needs either digest_every or digest_at")
        if self.mode == "immediate" and (self.digest_every or self.digest_at):
            raise ValueError('digest_every and digest_at need mode = "digest"')
        return self

    def rate(self) -> tuple[int, timedelta] | None:
        """``rate_limit`` as (messages, period)."""
        if self.rate_limit is None:
            return None
        m = _RATE.fullmatch(self.rate_limit)
        assert m is not None
        return int(m.group(1)), parse_duration(m.group(2))


class EmailChannel(_ChannelBase):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from", min_length=3)
    to: Annotated[tuple[str, ...], BeforeValidator(_as_list)] = Field(min_length=1)
    ca_file: str | None = None

    @property
    def effective_port(self) -> int:
        """The configured port, else the usual one for the security mode."""
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "none": 25}[self.security]

    @field_validator("from_", "to")
    @classmethod
    def _addresses(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for address in (value,) if isinstance(value, str) else value:
            if "@" not in address or any(c in address for c in "\r\n"):
                raise ValueError(f"{address!r} is not an email address")
        return value


class WebhookChannel(_ChannelBase):
    type: Literal["webhook"]
    url: HttpURL
    headers: dict[str, str] = Field(default_factory=dict)
    secret: SecretStr | None = None

    @field_validator("template")
    @classmethod
    def _no_template(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("a webhook sends the alert's JSON object; it takes no template")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            try:
                ok = raw.startswith("whsec_") and bool(base64.b64decode(raw[6:], validate=True))
            except ValueError:
                ok = False
            if not ok:
                raise ValueError("the secret must be whsec_ followed by base64 (Standard Webhooks)")
        return value


class ChatWebhookChannel(_ChannelBase):
    """Slack, Discord, Microsoft Teams and Mattermost: an incoming-webhook URL."""

    type: Literal["slack", "discord", "teams", "mattermost"]
    url: HttpURL


class TelegramChannel(_ChannelBase):
    type: Literal["telegram"]
    token: SecretStr
    chat_id: str | int
    api_url: HttpURL = "https://api.telegram.org"


class MatrixChannel(_ChannelBase):
    type: Literal["matrix"]
    homeserver: HttpURL
    access_token: SecretStr
    room_id: str = Field(pattern=r"^!.+:.+$")


class NtfyChannel(_ChannelBase):
    type: Literal["ntfy"]
    url: HttpURL
    token: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not urlsplit(value).path.strip("/"):
            raise ValueError(f"{value!r} names no topic (https://ntfy.sh/your-topic)")
        return value


class AppriseChannel(_ChannelBase):
    type: Literal["apprise"]
    url: SecretStr  # Apprise URLs carry their service's credentials


CHANNEL_TYPES = (
    "email",
    "webhook",
    "slack",
    "discord",
    "teams",
    "mattermost",
    "telegram",
    "matrix",
    "ntfy",
    "apprise",
)
ChannelConfig = Annotated[
    EmailChannel
    | WebhookChannel
    | ChatWebhookChannel
    | TelegramChannel
    | MatrixChannel
    | NtfyChannel
    | AppriseChannel,
    Field(discriminator="type"),
]
