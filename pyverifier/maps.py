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
    init: bytes | None = None  # element 0's initial value (global data), see pyverifier.mapvalue
    frozen: bool = False  # frozen after init (.rodata)
    inner: "MapInfo | None" = None  # map-in-map: the inner map template (the kernel's inner_map_meta, unnamed)
    # from the map's BTF (pyverifier.btf_fields): the special fields of the value, None without any;
    # btf_issue says why programs using this map are not modelled; has_lock: the value holds a spin lock
    btf: bool = False
    record: object = None
    btf_issue: str | None = None
    has_lock: bool = False
    btf_refused: bool = False  # the kernel would not create this map (malformed BTF, sizes, ...)

    @classmethod
    def from_spec(cls, index: int, spec: MapSpec) -> "MapInfo":
        clean = "".join(c if (c.isalnum() or c in "_.") else "_" for c in spec.name)[:15]
        inner = None
        if spec.inner is not None:
            i = spec.inner
            inner = cls(-1, i.type, i.key_size, i.value_size, i.max_entries, i.flags, "", **_btf_info(i))
        return cls(index, spec.type, spec.key_size, spec.value_size, spec.max_entries, spec.flags, clean,
                   spec.init, spec.frozen, inner, **_btf_info(spec))


def _btf_info(spec: MapSpec) -> dict:
    if spec.btf is None:
        return {}
    from .btf_fields import map_record

    rec, issue, refused = map_record(spec)
    lock = rec is not None and rec.spin_lock_off >= 0
    return {"btf": True, "record": rec, "btf_issue": issue, "has_lock": lock, "btf_refused": refused}


# map types whose lookup returns a pointer into the value (map_value_or_null)
LOOKUP_VALUE_TYPES = frozenset(T[n] for n in ("hash", "array", "percpu_hash", "percpu_array", "lru_hash",
                                              "lru_percpu_hash", "lpm_trie"))
UPDATE_TYPES = LOOKUP_VALUE_TYPES
DELETE_TYPES = frozenset(T[n] for n in ("hash", "percpu_hash", "lru_hash", "lru_percpu_hash", "lpm_trie"))
RINGBUF = T["ringbuf"]
PROG_ARRAY = T["prog_array"]
PERF_EVENT_ARRAY = T["perf_event_array"]

# ---- helper/map compatibility (the kernel's check_map_func_compatibility) ----
BPF_F_RDONLY_PROG = 1 << 7
BPF_F_WRONLY_PROG = 1 << 8
ELIDE_NULL_TYPES = frozenset({T["array"], T["percpu_array"]})  # const-key lookups in range are never NULL
MAP_IN_MAP_TYPES = frozenset({T["array_of_maps"], T["hash_of_maps"]})
SOCK_MAP_TYPES = frozenset({T["sockmap"], T["sockhash"]})

# map type -> the helpers that may take it (a map type missing here takes any helper that accepts it)
_BY_MAP: dict[int, frozenset[int]] = {
    T["prog_array"]: frozenset({12}),
    T["perf_event_array"]: frozenset({22, 25, 111, 55, 121}),
    T["ringbuf"]: frozenset({130, 131, 134, 198, 199, 200}),
    T["user_ringbuf"]: frozenset({209}),
    T["stack_trace"]: frozenset({27}),
    T["cgroup_array"]: frozenset({33, 37}),
    T["cgroup_storage"]: frozenset({81}),
    T["percpu_cgroup_storage"]: frozenset({81}),
    T["devmap"]: frozenset({51, 1}),
    T["devmap_hash"]: frozenset({51, 1}),
    T["cpumap"]: frozenset({51}),
    T["xskmap"]: frozenset({51, 1}),
    T["array_of_maps"]: frozenset({1}),
    T["hash_of_maps"]: frozenset({1}),
    T["reuseport_sockarray"]: frozenset({82}),
    T["queue"]: frozenset({87, 88, 89}),
    T["stack"]: frozenset({87, 88, 89}),
    T["sk_storage"]: frozenset({107, 108, 194}),
    T["inode_storage"]: frozenset({145, 146, 194}),
    T["task_storage"]: frozenset({156, 157, 194}),
    T["cgrp_storage"]: frozenset({210, 211, 194}),
    T["bloom_filter"]: frozenset({89, 87}),
}
_SOCKMAP_FUNCS = {T["sockmap"]: frozenset({52, 53, 60, 82, 1}), T["sockhash"]: frozenset({72, 70, 71, 82, 1})}
# helper -> the map types it accepts
_BY_FUNC: dict[int, frozenset[int]] = {
    12: frozenset({T["prog_array"]}),
    22: frozenset({T["perf_event_array"]}), 25: frozenset({T["perf_event_array"]}),
    55: frozenset({T["perf_event_array"]}), 111: frozenset({T["perf_event_array"]}),
    121: frozenset({T["perf_event_array"]}),
    130: frozenset({T["ringbuf"]}), 131: frozenset({T["ringbuf"]}), 134: frozenset({T["ringbuf"]}),
    198: frozenset({T["ringbuf"]}),
    27: frozenset({T["stack_trace"]}),
    33: frozenset({T["cgroup_array"]}), 37: frozenset({T["cgroup_array"]}),
    51: frozenset({T["devmap"], T["devmap_hash"], T["cpumap"], T["xskmap"]}),
    52: frozenset({T["sockmap"]}), 60: frozenset({T["sockmap"]}), 53: frozenset({T["sockmap"]}),
    72: frozenset({T["sockhash"]}), 71: frozenset({T["sockhash"]}), 70: frozenset({T["sockhash"]}),
    81: frozenset({T["cgroup_storage"], T["percpu_cgroup_storage"]}),
    82: frozenset({T["reuseport_sockarray"], T["sockmap"], T["sockhash"]}),
    88: frozenset({T["queue"], T["stack"]}),
    89: frozenset({T["queue"], T["stack"], T["bloom_filter"]}),
    87: frozenset({T["queue"], T["stack"], T["bloom_filter"]}),
    195: frozenset({T["percpu_array"], T["percpu_hash"], T["lru_percpu_hash"]}),
}


_P = uapi.PROG_TYPES
# program types that may update and delete sockmap/sockhash elements: no locked struct sock is reachable there
_SOCKMAP_UPDATERS = frozenset(_P[n] for n in ("socket_filter", "sched_cls", "sched_act", "xdp", "sk_reuseport",
                                              "flow_dissector", "sk_lookup"))


def may_update_sockmap(prog_type: int, attach_type: int, func_id: int) -> bool:
    """may_update_sockmap: bpf_map_update_elem (2) and bpf_map_delete_elem (3) on a sockmap/sockhash."""
    if func_id not in (2, 3):
        return False
    if prog_type == _P["tracing"]:
        return attach_type == uapi.ATTACH_TYPES["trace_iter"]
    if prog_type == _P["sock_ops"]:
        return func_id == 3  # sock_ops updates through its own helpers
    return prog_type in _SOCKMAP_UPDATERS


def func_allowed_for_map(map_type: int, func_id: int) -> bool | None:
    """Whether the kernel lets helper ``func_id`` take a map of ``map_type``; None: not modelled."""
    if map_type in _SOCKMAP_FUNCS:
        if func_id in _SOCKMAP_FUNCS[map_type]:
            pass
        elif func_id in (2, 3):
            return None  # may_update_sockmap depends on the program type and attach point
        else:
            return False
    else:
        ok = _BY_MAP.get(map_type)
        if ok is not None and func_id not in ok:
            return False
    ok = _BY_FUNC.get(func_id)
    if ok is not None and map_type not in ok:
        return False
    return True
