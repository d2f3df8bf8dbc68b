"""Maps as the verifier sees them: sizes, type, and the name the kernel prints."""
from __future__ import annotations

from dataclasses import dataclass

from . import uapi
from .program import MapSpec

T = uapi.MAP_TYPES


@dataclass(frozen=True)
class MapInfo:
    index: int
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    name: str  # as the kernel stores it: [A-Za-z0-9_.], at most 15 characters

    @classmethod
    def from_spec(cls, index: int, spec: MapSpec) -> "MapInfo":
        clean = "".join(c if (c.isalnum() or c in "_.") else "_" for c in spec.name)[:15]
        return cls(index, spec.type, spec.key_size, spec.value_size, spec.max_entries, spec.flags, clean)


# map types whose lookup returns a pointer into the value (map_value_or_null)
LOOKUP_VALUE_TYPES = frozenset(T[n] for n in ("hash", "array", "percpu_hash", "percpu_array", "lru_hash",
                                              "lru_percpu_hash", "lpm_trie"))
UPDATE_TYPES = LOOKUP_VALUE_TYPES
DELETE_TYPES = frozenset(T[n] for n in ("hash", "percpu_hash", "lru_hash", "lru_percpu_hash", "lpm_trie"))
RINGBUF = T["ringbuf"]
PROG_ARRAY = T["prog_array"]
PERF_EVENT_ARRAY = T["perf_event_array"]
