"""Names in certificates: DNS host matching (RFC 6125 / RFC 9525), IP literals, and RFC 5280
§4.2.1.10 name constraints for every name form tlslab evaluates (dNSName, iPAddress,
rfc822Name, directoryName).

Two attacker's tricks shape this module:

- **Unicode folding.** ``"ban\\u212a".lower()`` is ``"bank"`` (U+212A KELVIN SIGN folds to ``k``).
  A dNSName is an IA5String, so a name that is not ASCII is refused *before* any case folding,
  and only ASCII letters are ever folded (:func:`ascii_fold`).
- **IP addresses dressed as names.** ``127.1`` and ``0x7f.0.0.1`` are IPv4 addresses to every
  resolver (inet_aton forms); such a string is never a DNS name (:func:`looks_like_ip`).

A name form tlslab cannot evaluate (URI, otherName, ...) facing a constraint of the same form
fails closed, never open. Taught in notebook 03_certificates.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable

from cryptography import x509
from cryptography.x509.oid import NameOID

_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_IPISH = re.compile(r"^[0-9a-fA-FxX.:]+$")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
IPAny = ipaddress.IPv4Address | ipaddress.IPv6Address
NetAny = ipaddress.IPv4Network | ipaddress.IPv6Network


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters only (RFC 4343 §3: DNS case-insensitivity is ASCII-only)."""
    return text.translate(_ASCII_UPPER)


def looks_like_ip(text: str) -> bool:
    """True if ``text`` is an IP address in any form a resolver accepts: dotted quad, IPv6, or a
    legacy inet_aton form (``127.1``, ``0x7f.0.0.1``, ``2130706433``). Such strings are never
    DNS names (RFC 1123 §2.1: a host name's last label is never all-numeric)."""
    if not _IPISH.match(text):
        return False  # a letter beyond a-f, x: cannot be an address (the common, fast case)
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    parts = text.removesuffix(".").split(".")
    return 1 <= len(parts) <= 4 and all(_NUMBER.match(p) for p in parts)


def valid_dns_name(name: str, labels: int = 1) -> bool:
    """RFC 1034 §3.5 preferred syntax (letters, digits, hyphens; labels of 1..63 octets), ASCII
    only, at least ``labels`` labels, and not an IP address in disguise."""
    if not name.isascii() or looks_like_ip(name):
        return False
    parts = name.removesuffix(".").split(".")
    if len(name) > 253 or len(parts) < labels:
        return False
    return all(
        1 <= len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(c.isalnum() or c == "-" for c in label)
        for label in parts
    )


def dns_name_matches(pattern: str, name: str) -> bool:
    """RFC 6125 §6.4.3 (RFC 9525 §6.3): an exact match, or a wildcard that is the whole left-most
    label of a pattern with at least two more labels, matching exactly one label.

    Both strings must be ASCII *before* comparison; only ASCII is case-folded, so
    ``ban\\u212a.example`` (KELVIN SIGN) never matches ``bank.example``."""
    if not (pattern.isascii() and name.isascii()) or pattern.endswith("."):
        return False  # a presented dNSName ends without a dot (OpenSSL, cryptography agree)
    pattern, name = ascii_fold(pattern), ascii_fold(name).removesuffix(".")
    if not valid_dns_name(name):
        return False
    if pattern.startswith("*."):
        rest = pattern[2:]
        if not valid_dns_name(rest, labels=2):
            return False
        first, _, remainder = name.partition(".")
        return bool(first) and remainder == rest
    return valid_dns_name(pattern) and pattern == name


def ip_of(address: IPAny) -> IPAny:
    """An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) is the IPv4 address it carries
    (RFC 4291 §2.5.5.2); constraints on IPv4 apply to it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# -- directoryName comparison (RFC 5280 §7.1) -------------------------------------------------


def _normalise(value: str | bytes) -> str | bytes:
    """RFC 5280 §7.1 / RFC 4518 in the part that matters for ASCII: leading and trailing spaces
    removed, inner runs of spaces collapsed, ASCII case folded. Other characters compare exactly
    (the narrow comparison, used for *permitted* subtrees: fewer names match)."""
    if isinstance(value, bytes):
        return value
    return ascii_fold(" ".join(value.split()))


# RFC 4518 §2.2: characters mapped to nothing (soft hyphen, joiners, variation selectors, ...).
_MAPPED_TO_NOTHING = dict.fromkeys(
    [0xAD, 0x34F, 0x1806, 0x180B, 0x180C, 0x180D, 0xFEFF, 0x200B, 0x200C, 0x200D, 0x2060]
    + list(range(0xFE00, 0xFE10)),
    None,
)


def _normalise_broad(value: str | bytes) -> str | bytes:
    """RFC 4518 caseIgnoreMatch as far as an *excluded* subtree needs it: characters mapped to
    nothing dropped, NFKC, full Unicode case folding, spaces as in :func:`_normalise`. Used for
    excluded subtrees, where matching more names is the safe side: ``O=\u00e9vil corp`` and
    ``O=Ev\u00adil Corp`` are both ``O=\u00c9vil Corp``."""
    if isinstance(value, bytes):
        return value
    text = unicodedata.normalize("NFKC", value.translate(_MAPPED_TO_NOTHING)).casefold()
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _rdn_key(
    rdn: x509.RelativeDistinguishedName, broad: bool = False
) -> frozenset[tuple[str, str | bytes]]:
    norm = _normalise_broad if broad else _normalise
    return frozenset((a.oid.dotted_string, norm(a.value)) for a in rdn)


def dn_within(name: x509.Name, subtree: x509.Name, broad: bool = False) -> bool:
    """RFC 5280 §4.2.1.10: a directoryName is within a subtree when the subtree's RDNs are the
    first RDNs of the name (each RDN compared as a set of normalised attribute values).
    ``broad=True`` compares with RFC 4518's full case folding (for excluded subtrees)."""
    mine, theirs = list(name.rdns), list(subtree.rdns)
    if len(theirs) > len(mine):
        return False
    return all(_rdn_key(a, broad) == _rdn_key(b, broad) for a, b in zip(mine, theirs, strict=False))


def same_name(a: x509.Name, b: x509.Name) -> bool:
    """RFC 5280 §7.1: two distinguished names are equal when they have the same RDNs, each
    compared as a set of normalised attribute values (see :func:`_normalise`)."""
    return len(a.rdns) == len(b.rdns) and dn_within(a, b)


# -- rfc822Name (RFC 5280 §4.2.1.10) ------------------------------------------------------------


def _mailbox(address: str) -> tuple[str, str] | None:
    local, at, host = address.rpartition("@")
    if not address.isascii() or not at or not local or "@" in local or not valid_dns_name(host):
        return None
    if host.endswith("."):
        return None  # a mail domain has no trailing dot: "evil.example." would dodge "evil.example"
    return local, ascii_fold(host)


def email_within(address: str, constraint: str) -> bool | None:
    """None if either is malformed; else whether the mailbox is within the constraint:
    ``user@host`` one mailbox (local part exact), ``host`` every mailbox there, ``.domain``
    every mailbox on any host below it. Characters such as ``*`` are literal."""
    mailbox = _mailbox(address)
    if mailbox is None or not constraint.isascii():
        return None
    local, host = mailbox
    if "@" in constraint:
        wanted = _mailbox(constraint)
        return None if wanted is None else (local, host) == wanted
    if constraint.startswith("."):
        if not valid_dns_name(constraint[1:]):
            return None
        return host.endswith(ascii_fold(constraint))
    if not valid_dns_name(constraint):
        return None
    return host == ascii_fold(constraint)


# -- dNSName and iPAddress subtrees -------------------------------------------------------------


def dns_within(name: str, constraint: str) -> bool:
    """RFC 5280 §4.2.1.10: ``example.com`` admits itself and every name below it. A wildcard SAN
    is judged by its base (``*.example.com`` by ``example.com``)."""
    value = ascii_fold(name).removesuffix(".").removeprefix("*.")
    tree = ascii_fold(constraint).removesuffix(".")
    if not tree:
        return True
    return value == tree or value.endswith("." + tree)


def wildcard_covers(name: str, constraint: str) -> bool:
    """A wildcard SAN ``*.example.com`` stands for ``bar.example.com``: if that name is excluded
    (or only it is permitted), the wildcard must be refused (CVE-2025-61727)."""
    if not name.startswith("*."):
        return False
    base = ascii_fold(name[2:]).removesuffix(".")
    tree = ascii_fold(constraint).removesuffix(".")
    return tree.endswith("." + base) and "." not in tree[: -len(base) - 1]


def ip_within(address: IPAny, network: NetAny) -> bool:
    """An address is within a network, compared in both spellings of an IPv4 address: plain
    (``10.1.2.3``) and IPv4-mapped (``::ffff:10.1.2.3``), so neither form slips past a
    constraint written in the other."""
    plain = ip_of(address)
    mapped = ipaddress.IPv6Address(f"::ffff:{plain}") if plain.version == 4 else plain
    return address in network or plain in network or mapped in network


def subject_emails(name: x509.Name) -> list[str]:
    """emailAddress attributes of a subject DN (PKCS #9): RFC 5280 §4.2.1.10 says rfc822Name
    constraints apply to them too."""
    return [str(a.value) for a in name.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]


def malformed_subtree(tree: x509.GeneralName) -> str | None:
    """Why a name-constraint subtree is malformed (RFC 5280 §4.2.1.10), or None."""
    if isinstance(tree, x509.DNSName):
        ok = not tree.value or (not tree.value.startswith(".") and valid_dns_name(tree.value))
        return None if ok else f"malformed dNSName constraint {tree.value!r}"
    if isinstance(tree, x509.IPAddress):
        network = tree.value
        ok = isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network))
        return None if ok else f"iPAddress constraint {network} is not address/mask"
    if isinstance(tree, x509.RFC822Name):
        value = tree.value
        ok = not value.endswith(".") and (
            _mailbox(value) is not None if "@" in value else valid_dns_name(value.removeprefix("."))
        )
        return None if ok else f"malformed rfc822Name constraint {value!r}"
    return None


class SubjectEmail(x509.RFC822Name):
    """A subject emailAddress attribute, judged as an rfc822Name (built without the slow
    address parsing of ``x509.RFC822Name``; a malformed value fails the constraint check)."""

    def __init__(self, value: str) -> None:
        self._value = value


def constraint_verdict(nc: x509.NameConstraints, general: x509.GeneralName) -> str | None:
    """None if ``general`` (a name of a certificate below the CA) satisfies ``nc``, else why not.
    RFC 5280 §4.2.1.10: a name must be within one permitted subtree *of its own form* (if the CA
    lists any of that form) and within no excluded subtree. Unknown forms fail closed."""
    kind = x509.RFC822Name if isinstance(general, x509.RFC822Name) else type(general)
    permitted = [t for t in nc.permitted_subtrees or [] if type(t) is kind]
    excluded = [t for t in nc.excluded_subtrees or [] if type(t) is kind]
    if not (permitted or excluded):
        return None
    within = _WITHIN.get(kind)
    if within is None:
        return f"cannot evaluate {type(general).__name__} constraints: refusing (fail closed)"
    problem = _malformed_name(general)
    if problem:
        return problem
    if permitted and not any(within(general, t) for t in permitted):
        return f"{_show(general)} is outside the permitted subtrees"
    excluded_within = _EXCLUDED_WITHIN.get(kind, within)
    for tree in excluded:
        if excluded_within(general, tree) or (
            isinstance(general, x509.DNSName) and wildcard_covers(general.value, tree.value)
        ):
            return f"{_show(general)} is in (or covers part of) an excluded subtree ({_show(tree)})"
    return None


def _show(general: x509.GeneralName) -> str:
    if isinstance(general, x509.DirectoryName):
        return general.value.rfc4514_string() or "(empty DN)"
    return str(general.value)


def _malformed_name(general: x509.GeneralName) -> str | None:
    if isinstance(general, x509.DNSName):
        ok = valid_dns_name(general.value.removeprefix("*."))
        return None if ok else f"{general.value!r} is not a valid DNS name"
    if isinstance(general, x509.IPAddress):
        ok = isinstance(general.value, (ipaddress.IPv4Address, ipaddress.IPv6Address))
        return None if ok else f"iPAddress {general.value} is not a single address"
    if isinstance(general, x509.RFC822Name):
        ok = _mailbox(general.value) is not None
        return None if ok else f"{general.value!r} is not a valid mailbox"
    return None


def _dns(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    return isinstance(name, x509.DNSName) and dns_within(name.value, str(tree.value))


def _ip(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    network = tree.value
    return (
        isinstance(name.value, (ipaddress.IPv4Address, ipaddress.IPv6Address))
        and isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network))
        and ip_within(name.value, network)
    )


def _ip_exact(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    """Permitted subtrees: the address as written, so ``::ffff:10.1.2.3`` is not within a
    permitted ``10.0.0.0/8`` (RFC 5280 §4.2.1.10 compares addresses of one length; OpenSSL and
    cryptography agree). Excluded subtrees use :func:`_ip`, both spellings."""
    return (
        isinstance(name.value, (ipaddress.IPv4Address, ipaddress.IPv6Address))
        and isinstance(tree.value, (ipaddress.IPv4Network, ipaddress.IPv6Network))
        and name.value in tree.value
    )


def _email(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    return bool(email_within(str(name.value), str(tree.value)))


def _dn(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    return (
        isinstance(name, x509.DirectoryName)
        and isinstance(tree, x509.DirectoryName)
        and dn_within(name.value, tree.value)
    )


def _dn_excluded(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    return (
        isinstance(name, x509.DirectoryName)
        and isinstance(tree, x509.DirectoryName)
        and (dn_within(name.value, tree.value) or dn_within(name.value, tree.value, broad=True))
    )


_EXCLUDED_WITHIN: dict[
    type[x509.GeneralName], Callable[[x509.GeneralName, x509.GeneralName], bool]
] = {x509.DirectoryName: _dn_excluded, x509.IPAddress: _ip}
_WITHIN = {
    x509.DNSName: _dns,
    x509.IPAddress: _ip_exact,
    x509.RFC822Name: _email,
    x509.DirectoryName: _dn,
}
