"""Which transport the outbox sends through: ``[outbound] transport`` (SMTP or
Microsoft Graph), and the other one when both are set up (the health alerts while
the chosen one fails: mailroom/health/poll.py)."""

from __future__ import annotations

from mailroom.config import ConfigError, OutboundSettings, OutboundTransport, Settings, SmtpAuth
from mailroom.outbound import Transport
from mailroom.smtp_send import smtp_transport


def sending_enabled(settings: Settings) -> bool:
    """False: mail waits in the outbox (no SMTP host, and Graph not chosen)."""
    return settings.outbound.transport is OutboundTransport.GRAPH or settings.smtp.enabled


def transport_for(settings: Settings) -> Transport | None:
    """The transport ``[outbound] transport`` names, or None when sending is off.
    SMTP XOAUTH2 without a token command takes its tokens from the [m365] app
    (Exchange Online's scope)."""
    if settings.outbound.transport is OutboundTransport.GRAPH:
        from mailroom.m365.graph_send import graph_transport

        return graph_transport(settings)
    smtp = settings.smtp
    if not smtp.enabled:
        return None
    if smtp.auth is SmtpAuth.XOAUTH2 and not smtp.oauth2_token_command:
        if not settings.m365.enabled:
            raise ConfigError(
                "smtp.auth 'xoauth2' needs smtp.oauth2_token_command or the [m365] app registration"
            )
        from mailroom.m365.tokens import provider_from_settings

        return smtp_transport(smtp, provider_from_settings(settings, "outlook"))
    return smtp_transport(smtp)


def fallback_transport_for(settings: Settings) -> tuple[str, Transport] | None:
    """(name, transport) of the configured transport that ``[outbound] transport`` does
    not name, for the health alerts while that one fails; None when only one is set
    up. Graph counts as set up with the [m365] app and mailbox; SMTP with a host."""
    if settings.outbound.transport is OutboundTransport.GRAPH:
        if not settings.smtp.enabled:
            return None
        by_smtp = OutboundSettings(transport=OutboundTransport.SMTP)
        smtp_only = settings.model_copy(update={"outbound": by_smtp})
        transport = transport_for(smtp_only)
        return None if transport is None else (OutboundTransport.SMTP.value, transport)
    if not settings.m365.enabled:
        return None
    from mailroom.m365.graph_send import graph_transport

    return OutboundTransport.GRAPH.value, graph_transport(settings)
