"""tlslab's errors: every failure names the TLS alert a real stack would send.

The hierarchy mirrors RFC 8446 §6.2: ``TLSError`` is the root; ``AlertError``
carries an :class:`~tlslab.constants.AlertDescription`; there is one subclass per
alert tlslab raises, so ``except DecodeError`` reads like the RFC. Every message
says what was expected and what was seen.

``RemoteAlert`` is different: the *peer* sent us an alert. Local errors (we
detected a problem) and remote ones are told apart at the one place where peer
data enters a connection.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .constants import AlertDescription


class TLSError(Exception):
    """Root of every error tlslab raises on purpose."""


class AlertError(TLSError):
    """A locally detected failure, and the alert the RFC says to send for it."""

    description: ClassVar[AlertDescription] = AlertDescription.internal_error

    def __init__(self, message: str, *, expected: Any = None, seen: Any = None) -> None:
        self.message = message
        self.expected = expected
        self.seen = seen
        detail = message
        parts = []
        if expected is not None:
            parts.append(f"expected {_show(expected)}")
        if seen is not None:
            parts.append(f"saw {_show(seen)}")
        if parts:
            detail += f" ({', '.join(parts)})"
        super().__init__(f"{self.description.name}: {detail}")

    @property
    def alert(self) -> AlertDescription:
        """The alert description to send to the peer."""
        return self.description


def _show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex()
        return text if len(text) <= 64 else f"{text[:60]}... ({len(value)} bytes)"
    return str(value)


class DecodeError(AlertError):
    """A message could not be parsed: lengths, bounds or trailing bytes (decode_error)."""

    description = AlertDescription.decode_error


class IllegalParameter(AlertError):
    """A field parsed but holds a value that is not allowed here (illegal_parameter)."""

    description = AlertDescription.illegal_parameter


class UnexpectedMessage(AlertError):
    """A message arrived that the state machine does not allow now (unexpected_message)."""

    description = AlertDescription.unexpected_message


class BadRecordMac(AlertError):
    """A protected record failed authentication (bad_record_mac)."""

    description = AlertDescription.bad_record_mac


class RecordOverflow(AlertError):
    """A record longer than the protocol allows (record_overflow)."""

    description = AlertDescription.record_overflow


class HandshakeFailure(AlertError):
    """No acceptable set of parameters (handshake_failure)."""

    description = AlertDescription.handshake_failure


class DecryptError(AlertError):
    """A signature or Finished verify_data did not verify (decrypt_error)."""

    description = AlertDescription.decrypt_error


class ProtocolVersionError(AlertError):
    """The peer's version is not one we support (protocol_version)."""

    description = AlertDescription.protocol_version


class UnsupportedExtension(AlertError):
    """An extension the peer may not send here (unsupported_extension)."""

    description = AlertDescription.unsupported_extension


class MissingExtension(AlertError):
    """A mandatory extension is absent (missing_extension)."""

    description = AlertDescription.missing_extension


class NoApplicationProtocol(AlertError):
    """ALPN lists have no protocol in common (no_application_protocol)."""

    description = AlertDescription.no_application_protocol


class BadCertificate(AlertError):
    """A certificate is corrupt or fails a check (bad_certificate)."""

    description = AlertDescription.bad_certificate


class UnsupportedCertificate(AlertError):
    """A certificate of an unsupported type or usage (unsupported_certificate)."""

    description = AlertDescription.unsupported_certificate


class CertificateExpired(AlertError):
    """A certificate is outside its validity period (certificate_expired)."""

    description = AlertDescription.certificate_expired


class CertificateRevoked(AlertError):
    """The issuer revoked a certificate in the chain (certificate_revoked, RFC 5280 §6.3)."""

    description = AlertDescription.certificate_revoked


class CertificateUnknown(AlertError):
    """Some other certificate problem (certificate_unknown)."""

    description = AlertDescription.certificate_unknown


class UnknownCA(AlertError):
    """The chain does not end at a trusted root (unknown_ca)."""

    description = AlertDescription.unknown_ca


class InsufficientSecurity(AlertError):
    """Parameters too weak for the policy (insufficient_security)."""

    description = AlertDescription.insufficient_security


class CertificateRequired(AlertError):
    """The server asked for a client certificate and got none (certificate_required, RFC 8446 §4.4.2.4)."""

    description = AlertDescription.certificate_required


class InappropriateFallback(AlertError):
    """TLS_FALLBACK_SCSV from a client whose best version is below ours (RFC 7507 §3)."""

    description = AlertDescription.inappropriate_fallback


class InternalError(AlertError):
    """A local failure unrelated to the peer, e.g. encoding a field out of bounds."""

    description = AlertDescription.internal_error


class EncodeError(InternalError):
    """A message could not be encoded: a field is out of its RFC bounds."""


class RemoteAlert(TLSError):
    """The peer sent an alert; ``description`` is what it said."""

    def __init__(self, level: int, description: int) -> None:
        self.level = level
        self.description = description
        try:
            name = AlertDescription(description).name
        except ValueError:
            name = f"unknown alert {description}"
        super().__init__(f"peer sent alert {name} (level {level})")


ALERT_ERRORS: dict[AlertDescription, type[AlertError]] = {
    cls.description: cls
    for cls in (
        DecodeError,
        IllegalParameter,
        UnexpectedMessage,
        BadRecordMac,
        RecordOverflow,
        HandshakeFailure,
        DecryptError,
        ProtocolVersionError,
        UnsupportedExtension,
        MissingExtension,
        NoApplicationProtocol,
        BadCertificate,
        UnsupportedCertificate,
        CertificateExpired,
        CertificateUnknown,
        UnknownCA,
        InsufficientSecurity,
        CertificateRequired,
        InternalError,
    )
}
