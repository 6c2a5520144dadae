"""The session-signing shortcut's self-check (see :mod:`flask._accel`).

The serializer itself is :class:`flask._signing.SessionTokenSerializer`;
it uses no private names, but it re-implements ItsDangerous's token
format, so it must keep agreeing with the installed ItsDangerous.
"""

from __future__ import annotations

import hashlib

from itsdangerous import URLSafeTimedSerializer

from .._signing import SessionTokenSerializer


def check_signing() -> str | None:
    """Each side loads the other's token for the same key and salt."""
    signer_kwargs = {"key_derivation": "hmac", "digest_method": hashlib.sha1}
    ours = SessionTokenSerializer(["k"], salt="cookie-session", signer_kwargs=signer_kwargs)
    theirs = URLSafeTimedSerializer(["k"], salt="cookie-session", signer_kwargs=signer_kwargs)
    value = {"a": [1, "é"], "b": "x" * 200}
    if theirs.loads(ours.dumps(value)) != value or ours.loads(theirs.dumps(value)) != value:
        return "its tokens and ItsDangerous's do not load each other"
    return None
