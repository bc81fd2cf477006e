"""Opaque pagination tokens.

Owns paging a sorted list of items: a token encodes the sort key of the last item returned (not an
offset), so items created or deleted between pages neither repeat nor vanish, and it is bound to
the operation so a token from one list call is refused by another.
"""

import base64
import json


class BadToken(Exception):
    """The token cannot be decoded or belongs to another operation."""


def _encode(op, key):
    raw = json.dumps([op, key], separators=(',', ':')).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip('=')


def _decode(op, token):
    try:
        pad = '=' * (-len(token) % 4)
        got_op, key = json.loads(base64.urlsafe_b64decode(token + pad))
    except (ValueError, TypeError):
        raise BadToken(token)
    if got_op != op:
        raise BadToken(token)
    return key


def page(op, items, key, token, size, reverse=False):
    """One page of ``items`` sorted by ``key`` (unique, JSON-able, comparable).

    Returns (page_items, next_token_or_None). Raises BadToken.
    """
    ordered = sorted(items, key=key, reverse=reverse)
    start = 0
    if token:
        last = _decode(op, token)
        last = tuple(last) if isinstance(last, list) else last
        try:
            for i, item in enumerate(ordered):
                k = key(item)
                if (k < last) if reverse else (k > last):
                    start = i
                    break
            else:
                start = len(ordered)
        except TypeError:  # a forged token whose key does not compare with ours
            raise BadToken(token)
    chunk = ordered[start:start + size]
    nxt = None
    if start + size < len(ordered):
        k = key(chunk[-1])
        nxt = _encode(op, list(k) if isinstance(k, tuple) else k)
    return chunk, nxt
