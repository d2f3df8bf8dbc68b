"""File names inside a run directory, shared by compare/ (writer) and reports/ (reader).

Only this module decides how a program id becomes a file name, so log files,
program pages and anything else keyed by program agree with each other.
"""
from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_LEN = 200  # well under the 255-byte limit of common file systems, leaving room for a suffix

LOGS_DIR = "logs"
REPORT_DIR = "report"


def safe_name(program_id: str) -> str:
    """``program_id`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``.

    A name that would be longer than 200 characters is cut and ends with the
    first 12 hex digits of the SHA-1 of the whole id, so it stays unique and
    fits in a file name. A name made only of dots (``.``, ``..``) gets a
    leading ``_`` so it never names a directory.
    """
    s = _UNSAFE.sub("_", program_id)
    if not s.strip("."):
        s = "_" + s
    if len(s) > _MAX_LEN:
        digest = hashlib.sha1(program_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        s = s[: _MAX_LEN - 13] + "-" + digest
    return s


def log_relpath(verifier_kind: str, program_id: str) -> str:
    """Where the full log of one program from one kind of verifier lives, relative to the run."""
    return f"{LOGS_DIR}/{safe_name(verifier_kind)}/{safe_name(program_id)}.log"
