"""Attach check: run an accepted XDP or tc program on real packets, in a network namespace of its own.

``attach_check(program)`` forks a child that

1. moves into a new, unnamed network namespace (``unshare(CLONE_NEWNET)``), so
   everything it creates there disappears with it, whatever happens: a normal
   exit, an exception, a timeout, Ctrl-C or SIGKILL (the kernel destroys a
   namespace when its last process exits; nothing is mounted under
   /run/netns, no host interface is touched);
2. with pyroute2 creates a veth pair ``vd-a``/``vd-b`` (IPv6 off so that no
   neighbour discovery reaches the program), gives ``vd-b`` 10.203.0.2/24;
3. loads the program and attaches it to the ingress of ``vd-b``: XDP through
   ``IFLA_XDP``, tc (``sched_cls``) as a direct-action ``bpf`` filter on a
   ``clsact`` qdisc;
4. with run statistics on (``BPF_ENABLE_STATS``), sends ``packets`` UDP
   datagrams as raw Ethernet frames from ``vd-a`` to 10.203.0.2 (from the
   unassigned 10.203.0.1, so ``vd-a`` needs no address), and watches a UDP
   socket bound to 10.203.0.2 and a packet socket on ``vd-a`` (frames sent
   back, as by XDP_TX);
5. detaches and deletes what it created, then exits; the parent reads the
   ``AttachResult`` from a pipe, and kills the child after ``timeout``.

Only addresses inside that namespace are used; nothing leaves it.
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import struct
import time
import traceback
from contextlib import ExitStack
from dataclasses import asdict, dataclass

from pyverifier import uapi
from pyverifier.program import Program

from . import syscall as sc

XDP = uapi.PROG_TYPES["xdp"]
SCHED_CLS = uapi.PROG_TYPES["sched_cls"]
ATTACHABLE = (XDP, SCHED_CLS)

CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
BPF_STATS_RUN_TIME = 0
ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TC_H_CLSACT_INGRESS = 0xFFFFFFF2

DEV_A, DEV_B = "vd-a", "vd-b"
ADDR_A, ADDR_B = "10.203.0.1", "10.203.0.2"
PORT_SRC, PORT_DST = 40001, 40002
PAYLOAD = b"verifier-diff attach check #%d"

# statuses
PASSED = "passed"  # every packet reached the socket behind the program
DROPPED = "dropped"  # the program ran on every packet; none reached the socket, none came back
RETURNED = "returned"  # the packets came back out of the interface (XDP_TX)
PARTIAL = "partial"  # some packets passed, some did not
NOT_RUN = "not_run"  # the program did not run on the packets
NOT_ACCEPTED = "not_accepted"  # the kernel did not accept the program: nothing to attach
UNSUPPORTED = "unsupported"  # not an XDP or tc program
ATTACH_FAILED = "attach_failed"  # accepted, but the kernel refused to attach it
ERROR = "error"  # the check itself failed (timeout, no pyroute2, ...)

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class AttachResult:
    program_id: str
    hook: str  # "xdp", "tc" or "" when not attachable
    status: str
    mode: str = ""  # "xdp native", "xdp generic", "tc clsact ingress"
    sent: int = 0
    received: int = 0
    returned: int = 0
    run_count: int | None = None  # how often the program ran (BPF_ENABLE_STATS), None when unknown
    message: str = ""

    @property
    def summary(self) -> str:
        """One line for ``Result.attach_check``: ``xdp native: passed (3 sent, 3 received, ran 3)``."""
        if self.status in (UNSUPPORTED, NOT_ACCEPTED, ATTACH_FAILED, ERROR):
            return f"{self.hook or 'none'}: {self.status}" + (f" ({self.message})" if self.message else "")
        parts = [f"{self.sent} sent", f"{self.received} received"]
        if self.returned:
            parts.append(f"{self.returned} returned")
        if self.run_count is not None:
            parts.append(f"ran {self.run_count}")
        return f"{self.mode}: {self.status} ({', '.join(parts)})"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["summary"] = self.summary
        return d


_XDP_MODES = {"xdp": "xdp native", "xdpgeneric": "xdp generic", "xdpoffload": "xdp offload"}


def _xdp_pass_program() -> Program:
    from pyverifier.insn import Insn, encode

    return Program(id="attach/xdp_pass", source="attach", name="vd_xdp_pass", prog_type=XDP,
                   insns=encode([Insn(0xB7, 0, 0, 0, 2), Insn(0x95, 0, 0, 0, 0)]))  # r0 = XDP_PASS; exit


def _hook(program: Program) -> str:
    return "xdp" if program.prog_type == XDP else "tc" if program.prog_type == SCHED_CLS else ""


def attach_check(program: Program, packets: int = 3, timeout: float = 20.0) -> AttachResult:
    """Attach ``program`` (XDP or tc) in a throwaway network namespace and send packets through it."""
    hook = _hook(program)
    if not hook:
        return AttachResult(program.id, "", UNSUPPORTED,
                            message=f"{uapi.prog_type_name(program.prog_type)} programs are not attach-checked "
                                    "(only xdp and sched_cls)")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = 0
        try:
            os.close(rfd)
            _child(program, hook, packets, wfd)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(wfd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([rfd], [], [], left)
            if not ready:
                continue
            b = os.read(rfd, 1 << 16)
            if not b:
                break
            chunks.append(b)
    finally:
        # on a timeout or an interrupt of the parent the child goes, and its namespace with it
        if timed_out or not _complete(chunks):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.close(rfd)
        os.waitpid(pid, 0)
    if timed_out:
        return AttachResult(program.id, hook, ERROR, message=f"attach check timed out after {timeout:g} s")
    try:
        return AttachResult(**json.loads(b"".join(chunks)))
    except (ValueError, TypeError):
        return AttachResult(program.id, hook, ERROR, message="the attach check process ended without a result")


def _complete(chunks: list[bytes]) -> bool:
    try:
        json.loads(b"".join(chunks))
        return True
    except ValueError:
        return False


# --- the child ---------------------------------------------------------------------------

def _child(program: Program, hook: str, packets: int, wfd: int) -> None:
    try:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        res = _check_in_new_netns(program, hook, packets)
    except BaseException as e:  # noqa: BLE001
        res = AttachResult(program.id, hook, ERROR, message=f"{type(e).__name__}: {e}; "
                           + traceback.format_exc(limit=3).replace("\n", " | "))
    data = json.dumps(asdict(res)).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(wfd, view):]
    os.close(wfd)


def _unshare_netns() -> None:
    if _libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")


def _sysctl(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _enable_stats() -> int:
    attr = sc.new_attr()
    sc.pack(attr, "<I", 0, BPF_STATS_RUN_TIME)
    return sc.bpf(sc.BPF_ENABLE_STATS, attr)


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(dst_mac: bytes, src_mac: bytes, src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """An Ethernet + IPv4 + UDP frame (UDP checksum 0: none, as IPv4 allows)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x4242, 0x4000, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + udp


def _mac(ipr, index: int) -> bytes:
    link = ipr.get_links(index)[0]
    return bytes.fromhex(link.get_attr("IFLA_ADDRESS").replace(":", ""))


def _check_in_new_netns(program: Program, hook: str, packets: int) -> AttachResult:
    from pyroute2 import IPRoute  # noqa: PLC0415 - only the child needs it

    from .info import prog_info
    from .loader import open_program

    _unshare_netns()
    # no IPv6: no router solicitations or neighbour discovery through the program
    for conf in ("all", "default"):
        _sysctl(f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6", "1")
    for conf in ("all", "default"):
        _sysctl(f"/proc/sys/net/ipv4/conf/{conf}/rp_filter", "0")
    res = AttachResult(program.id, hook, ERROR)
    with ExitStack() as stack:
        ipr = stack.enter_context(IPRoute())
        fd, load_res = stack.enter_context(open_program(program))
        if fd is None:
            res.status = NOT_ACCEPTED
            res.message = f"{load_res.verdict}: {load_res.message}"
            return res
        ipr.link("add", ifname=DEV_A, kind="veth", peer=DEV_B)
        a = ipr.link_lookup(ifname=DEV_A)[0]
        b = ipr.link_lookup(ifname=DEV_B)[0]
        try:
            ipr.link("set", index=a, state="up")
            ipr.link("set", index=b, state="up")
            ipr.addr("add", index=b, address=ADDR_B, prefixlen=24)
            mac_a, mac_b = _mac(ipr, a), _mac(ipr, b)
            try:
                if hook == "xdp":
                    ipr.link("set", index=b, xdp_fd=fd)
                    attached = ipr.get_links(b)[0].get_attr("IFLA_XDP")
                    mode = attached.get_attr("IFLA_XDP_ATTACHED") if attached is not None else None
                    res.mode = _XDP_MODES.get(mode, f"xdp {mode}")
                    # a veth delivers XDP_TX frames to its peer only when the peer's XDP receive path
                    # is on: give vd-a a program that passes everything
                    pass_fd = stack.enter_context(open_program(_xdp_pass_program()))[0]
                    if pass_fd is not None:
                        ipr.link("set", index=a, xdp_fd=pass_fd)
                else:
                    ipr.tc("add", "clsact", b)
                    ipr.tc("add-filter", "bpf", b, ":1", fd=fd, name=program.name[:15] or "vd",
                           parent=TC_H_CLSACT_INGRESS, classid=1, direct_action=True)
                    res.mode = "tc clsact ingress"
            except Exception as e:  # noqa: BLE001 - netlink refusals are the result
                res.status = ATTACH_FAILED
                res.message = f"{type(e).__name__}: {e}"
                return res
            _send_and_watch(res, fd, mac_a, mac_b, a, packets, prog_info)
        finally:
            try:
                if hook == "xdp":
                    ipr.link("set", index=b, xdp_fd=-1)
                    ipr.link("set", index=a, xdp_fd=-1)
                ipr.link("del", index=a)  # deletes the peer, its qdisc and filter too
            except Exception:  # noqa: BLE001 - the namespace goes with the process anyway
                pass
    return res


def _send_and_watch(res: AttachResult, fd: int, mac_a: bytes, mac_b: bytes, ifindex_a: int, packets: int,
                    prog_info) -> None:
    stats_fd = None
    try:
        stats_fd = _enable_stats()
    except sc.BpfError:
        pass
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        rx.bind((ADDR_B, PORT_DST))
        rx.setblocking(False)
        tx.bind((DEV_A, ETH_P_ALL))
        tx.setblocking(False)
        runs0 = prog_info(fd).run_cnt if stats_fd is not None else None
        payloads = {PAYLOAD % i for i in range(packets)}
        for i in range(packets):
            tx.send(udp_frame(mac_b, mac_a, ADDR_A, ADDR_B, PORT_SRC, PORT_DST, PAYLOAD % i))
            res.sent += 1
        got, back = set(), set()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and len(got) + len(back) < packets:
            ready, _, _ = select.select([rx, tx], [], [], max(0.0, deadline - time.monotonic()))
            for s in ready:
                if s is rx:
                    data = rx.recv(2048)
                    if data in payloads:
                        got.add(data)
                else:
                    frame, addr = tx.recvfrom(2048)
                    if addr[2] != PACKET_OUTGOING:
                        for p in payloads:
                            if frame.endswith(p):
                                back.add(p)
        res.received, res.returned = len(got), len(back)
        if runs0 is not None:
            res.run_count = prog_info(fd).run_cnt - runs0
    finally:
        rx.close()
        tx.close()
        if stats_fd is not None:
            sc.close(stats_fd)
    if res.received == res.sent:
        res.status = PASSED
    elif res.returned == res.sent:
        res.status = RETURNED
    elif res.received or res.returned:
        res.status = PARTIAL
    elif res.run_count == 0:
        res.status = NOT_RUN
    else:
        res.status = DROPPED
