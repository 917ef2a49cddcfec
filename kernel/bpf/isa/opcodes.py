"""eBPF opcode constants (RFC 9669, "BPF Instruction Set Architecture").

The opcode byte is split three ways depending on the class:

* ALU / ALU64 / JMP / JMP32: ``op (4 bits) | source (1 bit) | class (3 bits)``
* LD / LDX / ST / STX:       ``mode (3 bits) | size (2 bits) | class (3 bits)``

Everything here is a plain ``int`` so the interpreter can compare and mask with
no enum overhead; the names are the RFC's, without the ``BPF_`` prefix.
"""

from __future__ import annotations

# ---------------------------------------------------------------- classes (low 3 bits)
CLASS_MASK = 0x07
LD = 0x00
LDX = 0x01
ST = 0x02
STX = 0x03
ALU = 0x04
JMP = 0x05
JMP32 = 0x06
ALU64 = 0x07

CLASS_NAMES = {
    LD: "LD",
    LDX: "LDX",
    ST: "ST",
    STX: "STX",
    ALU: "ALU",
    JMP: "JMP",
    JMP32: "JMP32",
    ALU64: "ALU64",
}

# ---------------------------------------------------------------- source (bit 3)
SRC_MASK = 0x08
K = 0x00  # use the 32-bit immediate
X = 0x08  # use the source register
# For END (byte swap) the source bit selects the target byte order instead.
TO_LE = 0x00
TO_BE = 0x08

# ---------------------------------------------------------------- ALU operations (high 4 bits)
OP_MASK = 0xF0
ADD = 0x00
SUB = 0x10
MUL = 0x20
DIV = 0x30  # off=1: SDIV
OR = 0x40
AND = 0x50
LSH = 0x60
RSH = 0x70
NEG = 0x80
MOD = 0x90  # off=1: SMOD
XOR = 0xA0
MOV = 0xB0  # off=8/16/32: MOVSX
ARSH = 0xC0
END = 0xD0

ALU_OP_NAMES = {
    ADD: "add",
    SUB: "sub",
    MUL: "mul",
    DIV: "div",
    OR: "or",
    AND: "and",
    LSH: "lsh",
    RSH: "rsh",
    NEG: "neg",
    MOD: "mod",
    XOR: "xor",
    MOV: "mov",
    ARSH: "arsh",
    END: "end",
}

# ---------------------------------------------------------------- jump operations (high 4 bits)
JA = 0x00
JEQ = 0x10
JGT = 0x20
JGE = 0x30
JSET = 0x40
JNE = 0x50
JSGT = 0x60
JSGE = 0x70
CALL = 0x80
EXIT = 0x90
JLT = 0xA0
JLE = 0xB0
JSLT = 0xC0
JSLE = 0xD0

JMP_OP_NAMES = {
    JA: "ja",
    JEQ: "jeq",
    JGT: "jgt",
    JGE: "jge",
    JSET: "jset",
    JNE: "jne",
    JSGT: "jsgt",
    JSGE: "jsge",
    CALL: "call",
    EXIT: "exit",
    JLT: "jlt",
    JLE: "jle",
    JSLT: "jslt",
    JSLE: "jsle",
}
COND_JMP_OPS = frozenset(
    {JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE},
)

# ---------------------------------------------------------------- load/store size (bits 3-4)
SIZE_MASK = 0x18
W = 0x00  # 4 bytes
H = 0x08  # 2 bytes
B = 0x10  # 1 byte
DW = 0x18  # 8 bytes
SIZE_BYTES = {W: 4, H: 2, B: 1, DW: 8}
SIZE_SUFFIX = {B: "b", H: "h", W: "w", DW: "dw"}

# ---------------------------------------------------------------- load/store mode (bits 5-7)
MODE_MASK = 0xE0
IMM = 0x00  # 64-bit immediate (LD | DW only: ld_imm64)
ABS = 0x20  # legacy packet access
IND = 0x40  # legacy packet access
MEM = 0x60
MEMSX = 0x80  # sign-extending load (LDX only)
ATOMIC = 0xC0  # atomic read-modify-write (STX, W and DW only)

# ---------------------------------------------------------------- atomic operations (imm field)
FETCH = 0x01
ATOMIC_ADD = ADD
ATOMIC_OR = OR
ATOMIC_AND = AND
ATOMIC_XOR = XOR
XCHG = 0xE0 | FETCH
CMPXCHG = 0xF0 | FETCH

ATOMIC_OP_NAMES = {
    ATOMIC_ADD: "add",
    ATOMIC_OR: "or",
    ATOMIC_AND: "and",
    ATOMIC_XOR: "xor",
}
ATOMIC_OPS = frozenset(
    {
        ATOMIC_ADD,
        ATOMIC_OR,
        ATOMIC_AND,
        ATOMIC_XOR,
        ATOMIC_ADD | FETCH,
        ATOMIC_OR | FETCH,
        ATOMIC_AND | FETCH,
        ATOMIC_XOR | FETCH,
        XCHG,
        CMPXCHG,
    }
)

# ---------------------------------------------------------------- pseudo source values
BPF_PSEUDO_MAP_FD = 1  # ld_imm64 src: imm is a map id (axiomOS: the map id itself)
# ld_imm64 src: imm is an array map id, the second slot's imm an offset; loads a pointer
# to value 0 of that map + offset (global data .data/.rodata/.bss, as libbpf emits it)
BPF_PSEUDO_MAP_VALUE = 2
BPF_PSEUDO_CALL = 1  # call src: imm is a pc-relative offset to a local function
BPF_PSEUDO_KFUNC_CALL = 2  # call src: helper by BTF id (unsupported here)

# ---------------------------------------------------------------- frequently used full opcodes
LD_IMM64 = LD | IMM | DW  # 0x18
CALL_OP = JMP | CALL  # 0x85
CALLX_OP = JMP | CALL | X  # 0x8d: call the helper whose id is in the dst register
EXIT_OP = JMP | EXIT  # 0x95
JA_OP = JMP | JA  # 0x05
JA32_OP = JMP32 | JA  # 0x06

# ---------------------------------------------------------------- machine constants
NUM_REGS = 11  # r0..r10
FP = 10  # the read-only frame pointer
STACK_SIZE = 512
MAX_CALL_FRAMES = 8  # main program + 7 nested local calls
