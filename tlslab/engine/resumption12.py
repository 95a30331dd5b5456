"""TLS 1.2 session resumption with tickets (RFC 5077), shared by the client and the server.

A TLS 1.2 session is its master secret (RFC 5246 §8.1) and what was agreed with it. A resumed,
"abbreviated" handshake (RFC 5246 §7.3, RFC 5077 §3.1) skips the certificate and the key
exchange: both sides take the session's master secret and cut a fresh key block from it with the
two new randoms (RFC 5246 §6.3). Only the Finished messages prove that both still hold it::

    ClientHello (SessionTicket: the ticket) -->
                                       <-- ServerHello (echoes the session_id)
                                           [NewSessionTicket]
                                           ChangeCipherSpec, Finished
    ChangeCipherSpec, Finished          -->

The server speaks first with its Finished, the reverse of a full handshake. RFC 7627 §5.3 adds
that a session made with the extended master secret may only be resumed by a hello that offers
it again (and one made without it should not be resumed at all).
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

from ..stages.keyschedule import Keys12, key_block
from ..stages.suites import SuiteInfo

# RFC 5077 §3.3: 0 in ticket_lifetime_hint means "unspecified"; a client then keeps the ticket
# no longer than the 7 days RFC 8446 §4.6.1 allows a TLS 1.3 ticket (the same cap applies always).
MAX_TICKET_AGE = 7 * 24 * 3600


def resumed_keys_12(
    master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    suite: SuiteInfo,
    *,
    extended: bool,
) -> Keys12:
    """The keys of an abbreviated handshake: the session's master secret, a new key block from
    this handshake's randoms (RFC 5246 §6.3, §7.3). ``extended`` records how the master secret was
    made (RFC 7627 §4); it is not made again."""
    block = key_block(master_secret, client_random, server_random, suite)
    return Keys12(master_secret, block, suite, extended)


def ticket_lifetime_12(lifetime_hint: int) -> int:
    """How long a client keeps a TLS 1.2 ticket: the hint, at most 7 days; 0 means unspecified."""
    return MAX_TICKET_AGE if lifetime_hint == 0 else min(lifetime_hint, MAX_TICKET_AGE)
