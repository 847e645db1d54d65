"""The API key's text (pure: no I/O).

    ingk_<key id: 32 hex><secret: 43 base62><check: 6 base62>

The prefix makes a leaked key easy to find (secret scanners match on it);
the key id, not secret, finds the row without a scan; the secret is 256
random bits, stored only as its SHA-256 (a slow hash adds nothing to a
secret that cannot be guessed, and would cost every request); the check is
a CRC-32 of id and secret, so a mistyped or made-up key is refused before
the database is asked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
import zlib
from dataclasses import dataclass

PREFIX = "ingk_"
SECRET_BYTES = 32
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_CHARS = 43  # 62**43 > 2**256
_CHECK_CHARS = 6  # 62**6 > 2**32
KEY_PATTERN = re.compile(
    rf"^{PREFIX}(?P<id>[0-9a-f]{{32}})(?P<secret>[0-9A-Za-z]{{{_SECRET_CHARS}}})"
    rf"(?P<check>[0-9A-Za-z]{{{_CHECK_CHARS}}})$"
)


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: uuid.UUID
    secret_hash: bytes


def base62(number: int, width: int) -> str:
    """`number` in base 62, zero-padded to `width` characters."""
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits)).rjust(width, _ALPHABET[0])


def checksum(body: str) -> str:
    return base62(zlib.crc32(body.encode()), _CHECK_CHARS)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_key() -> tuple[str, ParsedKey]:
    """A fresh key's text (shown once) and what is stored of it."""
    key_id = uuid.uuid4()
    secret = base62(int.from_bytes(secrets.token_bytes(SECRET_BYTES)), _SECRET_CHARS)
    body = key_id.hex + secret
    stored = ParsedKey(key_id=key_id, secret_hash=secret_hash(secret))
    return f"{PREFIX}{body}{checksum(body)}", stored


def looks_like_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (then it is nothing else)."""
    return token.startswith(PREFIX)


def parse_key(token: str) -> ParsedKey | None:
    """The key's id and secret hash; None for text that is no key of ours."""
    match = KEY_PATTERN.match(token)
    if match is None:
        return None
    if checksum(match["id"] + match["secret"]) != match["check"]:
        return None
    return ParsedKey(key_id=uuid.UUID(hex=match["id"]), secret_hash=secret_hash(match["secret"]))


def display_prefix(key_id: uuid.UUID) -> str:
    """How listings name a key: enough to recognise it, nothing to use."""
    return f"{PREFIX}{key_id.hex[:8]}"
