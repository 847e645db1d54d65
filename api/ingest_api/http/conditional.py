"""Conditional reads (RFC 9110 13.1.2): an entity tag for a representation,
and whether a client's If-None-Match already names it (pure)."""

from __future__ import annotations

import hashlib


def entity_tag(body: bytes) -> str:
    """A strong tag of these exact bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def none_match(if_none_match: str | None, tag: str) -> bool:
    """True when If-None-Match holds `tag` (weakly compared, as the RFC
    says for this header) or is `*`: the client already has this version."""
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or tag.removeprefix("W/") in candidates
