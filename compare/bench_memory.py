"""Memory of one pyverifier run: the tracemalloc peak and what the verifier holds at the end.

``measure(program, log_level)`` runs the exploration loop once under
``tracemalloc`` and returns

* ``peak_bytes``: the peak of memory allocated during the run (everything:
  states, tables, the log text, temporaries), above what was allocated before;
* ``parts``: the retained size of the verifier's main structures when the run
  ends, each the deep ``sys.getsizeof`` sum of the objects reachable from it.
  Objects shared between parts (register values shared by many states) are
  counted once, in the first part that reaches them, in the order of
  ``PARTS``; the log is its text length.

The parts need the verifier object, which ``pyverifier.verify`` does not
return: they are read from ``pyverifier.verifier._Verifier`` by attribute
name. When that internal shape changes, ``parts`` says which part could not
be found instead of guessing.
"""
from __future__ import annotations

import sys
import tracemalloc
import types
from typing import Any, Iterable

from pyverifier.program import Program

# part name -> attribute paths on the verifier object
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("per-instruction data", ("insns", "cfg", "succ", "live")),
    ("explored-state table", ("pruner",)),
    ("pending branches", ("stack",)),
    ("current state", ("state",)),
)

_SKIP_TYPES = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
               types.CodeType)
_LEAF_TYPES = (str, bytes, bytearray, int, float, bool, type(None), complex, range)


def deep_size(roots: Iterable[Any], seen: set[int]) -> int:
    """Sum of ``sys.getsizeof`` over every object reachable from ``roots`` not yet in ``seen``.

    Follows containers, ``__dict__`` and ``__slots__``; never enters classes,
    modules or functions. ``seen`` (object ids) is updated, so successive calls
    count shared objects once.
    """
    total = 0
    todo = list(roots)
    while todo:
        o = todo.pop()
        i = id(o)
        if i in seen:
            continue
        seen.add(i)
        if isinstance(o, _SKIP_TYPES):
            continue
        total += sys.getsizeof(o)
        if isinstance(o, _LEAF_TYPES):
            continue
        if isinstance(o, dict):
            todo.extend(o.keys())
            todo.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            todo.extend(o)
        else:
            d = getattr(o, "__dict__", None)
            if d is not None:
                todo.append(d)
            for cls in type(o).__mro__:
                for name in getattr(cls, "__slots__", ()):
                    try:
                        todo.append(getattr(o, name))
                    except AttributeError:
                        pass
    return total


def _resolve(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def measure(program: Program, log_level: int = 0) -> dict:
    """Peak memory of one verification of ``program`` and the sizes of its parts (see the module doc)."""
    from pyverifier.log import LOG_STATS, Log
    from pyverifier.verifier import _Verifier

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        log = Log(log_level | LOG_STATS)
        v = _Verifier(program, log)
        error = None
        try:
            v.run()
        except Exception as e:  # noqa: BLE001 - the verifier's own crash: the memory so far still counts
            error = f"{type(e).__name__}: {e}"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    seen: set[int] = {id(v), id(log), id(program)}
    parts: dict[str, int | None] = {}
    missing: dict[str, str] = {}
    for name, paths in PARTS:
        try:
            roots = [_resolve(v, p) for p in paths]
        except AttributeError as e:
            parts[name] = None
            missing[name] = f"not measurable: {e}"
            continue
        parts[name] = deep_size(roots, seen)
    parts["log text"] = len(log.text())
    return {
        "peak_bytes": max(0, peak - base),
        "parts": parts,
        "parts_missing": missing,
        "verdict": getattr(v, "verdict", None),
        "not_modelled": getattr(v, "not_modelled", None),
        "error": error,
    }
