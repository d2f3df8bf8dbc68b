"""Scanning C source text: where comments and string/char literals end, for brace matching."""
from __future__ import annotations


def skip_comment_or_literal(text: str, i: int) -> int:
    """The index after the comment or literal starting at ``i``, or ``i`` when none starts there."""
    c = text[i]
    n = len(text)
    if c in "\"'":
        j = i + 1
        while j < n and text[j] != c:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if text.startswith("/*", i):
        e = text.find("*/", i + 2)
        return n if e < 0 else e + 2
    if text.startswith("//", i):
        e = text.find("\n", i)
        return n if e < 0 else e
    return i
