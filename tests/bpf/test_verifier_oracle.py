"""Oracle: the same programs through the real Linux verifier (BPF_PROG_LOAD).

Not in the default run: needs root on a Linux kernel that lets it call bpf() and
``AXIOM_LINUX_ORACLE=1``; run with
``AXIOM_LINUX_ORACLE=1 .venv/bin/pytest -m linux_oracle tests/bpf/test_verifier_oracle.py``.
Programs are loaded as socket filters (load only, never attached); helper ids and
map references are translated to Linux's. Each case checks that Linux and this
verifier give the same verdict.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from dataclasses import replace

import pytest

from bench.verifier_programs import TOO_LARGE, if_chain
from kernel.abi import Helper, MapType
from kernel.bpf.errors import VerifierError
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.insn import encode
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.verifier import verify

LINUX_HELPER = {Helper.MAP_LOOKUP_ELEM: 1, Helper.KTIME_GET_NS: 5, Helper.GET_PRANDOM_U32: 7}
NR_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_MAP_CREATE, BPF_PROG_LOAD = 0, 5
SOCKET_FILTER, ARRAY = 1, 2


def _bpf(cmd: int, attr: bytes) -> tuple[int, int]:
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(attr, len(attr))
    r = libc.syscall(NR_BPF, cmd, buf, len(attr))
    return r, ctypes.get_errno()


def _available() -> bool:
    if not os.environ.get("AXIOM_LINUX_ORACLE") or NR_BPF is None or os.geteuid() != 0:
        return False
    try:
        return _load(assemble("mov r0, 0\nexit"))[0]
    except OSError:
        return False


def _load(insns, map_fd: int = -1) -> tuple[bool, str]:
    """Linux's verdict and log for ``insns`` (our helper ids, map 0 = ``map_fd``)."""
    fixed = []
    for i in insns:
        if i.opcode == op.CALL_OP and i.src == 0:
            i = replace(i, imm=LINUX_HELPER[Helper(i.imm)])
        elif i.opcode == op.LD_IMM64 and i.src == op.BPF_PSEUDO_MAP_FD:
            i = replace(i, imm=map_fd)
        fixed.append(i)
    code = ctypes.create_string_buffer(encode(fixed))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 20)
    attr = struct.pack(
        "<IIQQIIQ",
        SOCKET_FILTER,
        len(fixed),
        ctypes.addressof(code),
        ctypes.addressof(lic),
        1,
        len(log),
        ctypes.addressof(log),
    )
    fd, _errno = _bpf(BPF_PROG_LOAD, attr + bytes(144 - len(attr)))
    if fd >= 0:
        os.close(fd)
    return fd >= 0, log.value.decode(errors="replace")


pytestmark = [
    pytest.mark.linux_oracle,
    pytest.mark.skipif(not _available(), reason="needs AXIOM_LINUX_ORACLE=1, root and bpf()"),
]


@pytest.fixture(scope="module")
def map_fd():
    attr = struct.pack("<IIIII", ARRAY, 4, 48, 4, 0)
    fd, errno = _bpf(BPF_MAP_CREATE, attr + bytes(72 - len(attr)))
    assert fd >= 0, errno
    yield fd
    os.close(fd)


def _ours(insns) -> bool:
    table = MapTable()
    table.create(MapType.ARRAY, 4, 48, 4)
    try:
        verify(insns, table)
    except VerifierError:
        return False
    return True


# the key at fp-8: Linux 6.18 remembers narrow constant spills at 8-aligned offsets only
LOOKUP = "stw [r10-8], {key}\nlddw r1, map:0\nmov r2, r10\nadd r2, -8\ncall map_lookup_elem\n"

CASES = {
    "if_chain_200": (if_chain(200), True),
    "const_key_in_range": (LOOKUP.format(key=3) + "ldxdw r0, [r0+0]\nexit", True),
    "const_key_out_of_range": (LOOKUP.format(key=4) + "ldxdw r0, [r0+0]\nexit", False),
    "narrow_spill": (
        LOOKUP.format(key=0) + "stb [r10-16], 6\nldxb r1, [r10-16]\nadd r0, r1\n"
        "ldxb r0, [r0+0]\nexit",
        True,
    ),
    "int_index": (
        "call ktime_get_ns\nmov r6, r0\nlsh r6, 32\narsh r6, 32\n"
        + LOOKUP.format(key=0)
        + "mov r7, r0\nmov r0, 0\njslt32 w6, 0, out\njsgt32 w6, 11, out\nlsh r6, 2\n"
        "add r7, r6\nldxw r0, [r7+0]\nout:\nexit",
        True,
    ),
    "precise_not_pruned": (
        "call get_prandom_u32\nmov r7, r0\n"
        + LOOKUP.format(key=0)
        + "mov r6, 0\njgt r7, 10, big\nja join\nbig:\nmov r6, 100\njoin:\nadd r0, r6\n"
        "ldxdw r0, [r0+0]\nexit",
        False,
    ),
}


def test_const_key_at_fp_minus_4_linux_keeps_null_check_we_do_not(map_fd: int) -> None:
    """Where clang puts a ``__u32 key``: Linux 6.18 does not remember a 4-byte spill at
    a non-8-aligned offset; this verifier does (the lookup provably succeeds)."""
    src = LOOKUP.replace("-8", "-4").format(key=3) + "ldxdw r0, [r0+0]\nexit"
    assert _load(assemble(src), map_fd)[0] is False
    assert _ours(assemble(src)) is True


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_linux(name: str, map_fd: int) -> None:
    src, expected = CASES[name]
    insns = assemble(src)
    linux, log = _load(insns, map_fd)
    assert linux is expected, log[-2000:]
    assert _ours(insns) is expected


def test_budget_message_matches_linux() -> None:
    insns = assemble(TOO_LARGE)
    linux, log = _load(insns)
    assert not linux
    assert "BPF program is too large. Processed 1000001 insn" in log
    with pytest.raises(VerifierError) as e:
        verify(insns, MapTable())
    assert "BPF program is too large. Processed 1000001 insn" in e.value.log
