"""Named constants of the BPF instruction set, and the opcodes Linux 6.18 accepts.

An opcode byte is split three ways depending on its class (the low 3 bits):

* ALU/ALU64/JMP/JMP32: ``op`` (high 4 bits) | ``source`` (bit 3) | ``class``
* LD/LDX/ST/STX: ``mode`` (high 3 bits) | ``size`` (bits 3-4) | ``class``

Beyond the opcode, several instructions are told apart by other fields: signed
division/modulo (``off == 1``), sign-extending moves (``off`` 8/16/32), the
address-space cast (``off == 1`` on ``mov64 X``), the atomic operation (``imm``),
the kind of call (``src``: helper, bpf-to-bpf, kfunc) and the pseudo sources of
``ld_imm64`` (``src``). Their values are here too.

``VALID_OPCODES`` is the set of opcode bytes the 6.18 kernel lets through its
opcode check (measured on the live kernel: every other byte is refused with
``unknown opcode XX`` or, for load classes with an unsupported mode,
``BPF_LDX uses reserved fields``). A valid opcode can still be refused later
for its other fields; that is the verifier's business.
"""
from __future__ import annotations

# --- instruction classes (low 3 bits) -------------------------------------
BPF_LD = 0x00
BPF_LDX = 0x01
BPF_ST = 0x02
BPF_STX = 0x03
BPF_ALU = 0x04
BPF_JMP = 0x05
BPF_JMP32 = 0x06
BPF_ALU64 = 0x07

CLASS_NAMES = {
    BPF_LD: "ld",
    BPF_LDX: "ldx",
    BPF_ST: "st",
    BPF_STX: "stx",
    BPF_ALU: "alu",
    BPF_JMP: "jmp",
    BPF_JMP32: "jmp32",
    BPF_ALU64: "alu64",
}

# --- sizes (bits 3-4 of load/store opcodes) --------------------------------
BPF_W = 0x00  # 4 bytes
BPF_H = 0x08  # 2 bytes
BPF_B = 0x10  # 1 byte
BPF_DW = 0x18  # 8 bytes

SIZE_BYTES = {BPF_W: 4, BPF_H: 2, BPF_B: 1, BPF_DW: 8}
BYTES_SIZE = {v: k for k, v in SIZE_BYTES.items()}

# --- modes (high 3 bits of load/store opcodes) -----------------------------
BPF_IMM = 0x00  # ld_imm64 (with BPF_DW)
BPF_ABS = 0x20  # legacy packet load, absolute offset
BPF_IND = 0x40  # legacy packet load, register + offset
BPF_MEM = 0x60  # ordinary load/store
BPF_LEN = 0x80  # classic BPF only
BPF_MSH = 0xA0  # classic BPF only
BPF_MEMSX = 0x80  # sign-extending load (LDX only)
BPF_ATOMIC = 0xC0  # atomic operation (STX only), operation in imm
BPF_XADD = BPF_ATOMIC  # old name of BPF_ATOMIC
BPF_NOSPEC = 0xC0  # ST|NOSPEC: kernel-internal speculation barrier, refused from user space

# --- source operand (bit 3 of ALU/JMP opcodes) -----------------------------
BPF_K = 0x00  # immediate
BPF_X = 0x08  # register
BPF_TO_LE = 0x00  # byte swap to little endian (ALU|END)
BPF_TO_BE = 0x08  # byte swap to big endian (ALU|END)
BPF_FROM_LE = BPF_TO_LE
BPF_FROM_BE = BPF_TO_BE

# --- ALU operations (high 4 bits) ------------------------------------------
BPF_ADD = 0x00
BPF_SUB = 0x10
BPF_MUL = 0x20
BPF_DIV = 0x30
BPF_OR = 0x40
BPF_AND = 0x50
BPF_LSH = 0x60
BPF_RSH = 0x70
BPF_NEG = 0x80
BPF_MOD = 0x90
BPF_XOR = 0xA0
BPF_MOV = 0xB0
BPF_ARSH = 0xC0
BPF_END = 0xD0  # byte swap; ALU64|END is the unconditional bswap

ALU_OP_NAMES = {
    BPF_ADD: "add",
    BPF_SUB: "sub",
    BPF_MUL: "mul",
    BPF_DIV: "div",
    BPF_OR: "or",
    BPF_AND: "and",
    BPF_LSH: "lsh",
    BPF_RSH: "rsh",
    BPF_NEG: "neg",
    BPF_MOD: "mod",
    BPF_XOR: "xor",
    BPF_MOV: "mov",
    BPF_ARSH: "arsh",
    BPF_END: "end",
}

# --- jump operations (high 4 bits) -----------------------------------------
BPF_JA = 0x00
BPF_JEQ = 0x10
BPF_JGT = 0x20
BPF_JGE = 0x30
BPF_JSET = 0x40
BPF_JNE = 0x50
BPF_JSGT = 0x60
BPF_JSGE = 0x70
BPF_CALL = 0x80
BPF_EXIT = 0x90
BPF_JLT = 0xA0
BPF_JLE = 0xB0
BPF_JSLT = 0xC0
BPF_JSLE = 0xD0
BPF_JCOND = 0xE0  # conditional pseudo jump; src selects which (only may_goto exists)

JMP_OP_NAMES = {
    BPF_JA: "ja",
    BPF_JEQ: "jeq",
    BPF_JGT: "jgt",
    BPF_JGE: "jge",
    BPF_JSET: "jset",
    BPF_JNE: "jne",
    BPF_JSGT: "jsgt",
    BPF_JSGE: "jsge",
    BPF_CALL: "call",
    BPF_EXIT: "exit",
    BPF_JLT: "jlt",
    BPF_JLE: "jle",
    BPF_JSLT: "jslt",
    BPF_JSLE: "jsle",
    BPF_JCOND: "jcond",
}

# The conditional jumps (comparison operators).
COND_JMP_OPS = (
    BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
    BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
)

# --- src values of JMP|JCOND ----------------------------------------------
BPF_MAY_GOTO = 0

# --- atomic operations (imm of STX|ATOMIC) --------------------------------
BPF_FETCH = 0x01  # also return the old value in src
BPF_XCHG = 0xE0 | BPF_FETCH
BPF_CMPXCHG = 0xF0 | BPF_FETCH
BPF_ATOMIC_LOAD = 0x100
BPF_ATOMIC_STORE = 0x110
BPF_LOAD_ACQ = BPF_ATOMIC_LOAD  # load-acquire, 6.15+
BPF_STORE_REL = BPF_ATOMIC_STORE  # store-release, 6.15+

ATOMIC_ALU_OPS = (BPF_ADD, BPF_OR, BPF_AND, BPF_XOR)
ATOMIC_IMMS = frozenset(
    list(ATOMIC_ALU_OPS)
    + [op | BPF_FETCH for op in ATOMIC_ALU_OPS]
    + [BPF_XCHG, BPF_CMPXCHG, BPF_LOAD_ACQ, BPF_STORE_REL]
)

# --- ld_imm64 pseudo sources (src of BPF_LD|BPF_IMM|BPF_DW) ----------------
BPF_PSEUDO_MAP_FD = 1  # imm = map fd (Program records: index into Program.maps)
BPF_PSEUDO_MAP_VALUE = 2  # imm = map fd, second imm = offset into value
BPF_PSEUDO_BTF_ID = 3  # imm = BTF id of a kernel variable, second imm = BTF object fd
BPF_PSEUDO_FUNC = 4  # imm = relative insn offset of a subprogram
BPF_PSEUDO_MAP_IDX = 5  # imm = index into fd_array
BPF_PSEUDO_MAP_IDX_VALUE = 6  # imm = index into fd_array, second imm = offset
LD_IMM64_PSEUDO_SRCS = frozenset(range(0, 7))

# --- call kinds (src of JMP|CALL) ------------------------------------------
BPF_HELPER_CALL = 0  # imm = helper id
BPF_PSEUDO_CALL = 1  # bpf-to-bpf call, imm = relative insn offset
BPF_PSEUDO_KFUNC_CALL = 2  # kfunc, imm = BTF id, off = fd_array index of module BTF

# --- off of special ALU forms ----------------------------------------------
BPF_SDIV_SMOD_OFF = 1  # off of signed DIV/MOD
MOVSX_OFFS = (8, 16, 32)  # off of sign-extending MOV (32 only for ALU64)
BPF_ADDR_SPACE_CAST = 1  # off of ALU64|MOV|X: address-space cast, imm = (dst_as << 16) | src_as

# --- registers ---------------------------------------------------------------
MAX_BPF_REG = 11  # r0..r10
BPF_REG_FP = 10  # frame pointer, read only

# --- frequently used whole opcodes -----------------------------------------
LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW  # 0x18
CALL = BPF_JMP | BPF_CALL  # 0x85
EXIT = BPF_JMP | BPF_EXIT  # 0x95
JA = BPF_JMP | BPF_JA  # 0x05: goto pc+off
GOTOL = BPF_JMP32 | BPF_JA  # 0x06: goto pc+imm
MAY_GOTO = BPF_JMP | BPF_JCOND  # 0xe5
BSWAP = BPF_ALU64 | BPF_END | BPF_TO_LE  # 0xd7
MOV64_IMM = BPF_ALU64 | BPF_MOV | BPF_K  # 0xb7
MOV64_REG = BPF_ALU64 | BPF_MOV | BPF_X  # 0xbf


def insn_class(code: int) -> int:
    return code & 0x07


def insn_op(code: int) -> int:
    return code & 0xF0


def insn_src(code: int) -> int:
    return code & 0x08


def insn_size(code: int) -> int:
    return code & 0x18


def insn_mode(code: int) -> int:
    return code & 0xE0


def _valid_opcodes() -> frozenset[int]:
    codes: set[int] = set()
    alu_binary = (
        BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
        BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
    )
    for cls in (BPF_ALU, BPF_ALU64):
        for op in alu_binary:
            codes.add(cls | op | BPF_K)
            codes.add(cls | op | BPF_X)
        codes.add(cls | BPF_NEG | BPF_K)
    codes.add(BPF_ALU | BPF_END | BPF_TO_LE)
    codes.add(BPF_ALU | BPF_END | BPF_TO_BE)
    codes.add(BPF_ALU64 | BPF_END | BPF_TO_LE)  # bswap
    for cls in (BPF_JMP, BPF_JMP32):
        for op in COND_JMP_OPS:
            codes.add(cls | op | BPF_K)
            codes.add(cls | op | BPF_X)
        codes.add(cls | BPF_JA)
    codes.update((CALL, EXIT, MAY_GOTO))
    codes.add(LD_IMM64)
    for size in (BPF_W, BPF_H, BPF_B):
        codes.add(BPF_LD | BPF_ABS | size)
        codes.add(BPF_LD | BPF_IND | size)
        codes.add(BPF_LDX | BPF_MEMSX | size)
    for size in (BPF_W, BPF_H, BPF_B, BPF_DW):
        codes.add(BPF_LDX | BPF_MEM | size)
        codes.add(BPF_ST | BPF_MEM | size)
        codes.add(BPF_STX | BPF_MEM | size)
        codes.add(BPF_STX | BPF_ATOMIC | size)
    return frozenset(codes)


VALID_OPCODES: frozenset[int] = _valid_opcodes()
_VALID_TABLE = tuple(c in VALID_OPCODES for c in range(256))


def is_valid_opcode(code: int) -> bool:
    """True when the 6.18 kernel accepts ``code`` as an opcode byte."""
    return 0 <= code < 256 and _VALID_TABLE[code]
