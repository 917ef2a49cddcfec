"""Loads, stores, atomics and the region memory model."""

import struct

import pytest

from kernel.abi import BPF_CONTEXT_STRUCT
from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.vm import Vm, make_context

from ._vmutil import M64, prog, run, run_err


@pytest.mark.parametrize(
    "store, load, expected",
    [
        ("stb [r10-8], 0x1ff", "ldxb r0, [r10-8]", 0xFF),
        ("sth [r10-8], -1", "ldxh r0, [r10-8]", 0xFFFF),
        ("stw [r10-8], -1", "ldxw r0, [r10-8]", 0xFFFF_FFFF),
        ("stdw [r10-8], -1", "ldxdw r0, [r10-8]", M64),  # imm sign-extended to 64
        ("stdw [r10-8], 0x7fffffff", "ldxdw r0, [r10-8]", 0x7FFF_FFFF),
        ("stb [r10-8], 0x80", "ldxsb r0, [r10-8]", 0xFFFF_FFFF_FFFF_FF80),
        ("sth [r10-8], 0x8000", "ldxsh r0, [r10-8]", 0xFFFF_FFFF_FFFF_8000),
        ("stw [r10-8], 0x80000000", "ldxsw r0, [r10-8]", 0xFFFF_FFFF_8000_0000),
        ("stw [r10-8], 0x7fffffff", "ldxsw r0, [r10-8]", 0x7FFF_FFFF),
        ("stb [r10-8], 0x7f", "ldxsb r0, [r10-8]", 0x7F),
    ],
)
def test_store_immediate_then_load(store, load, expected):
    assert run(f"{store}\n{load}\nexit") == expected


@pytest.mark.parametrize(
    "insn, expected",
    [
        ("stxb [r10-8], r1", 0x88),
        ("stxh [r10-8], r1", 0x7788),
        ("stxw [r10-8], r1", 0x5566_7788),
        ("stxdw [r10-8], r1", 0x1122_3344_5566_7788),
    ],
)
def test_store_register_truncates_to_size(insn, expected):
    text = f"lddw r1, 0x1122334455667788\nstdw [r10-8], 0\n{insn}\nldxdw r0, [r10-8]\nexit"
    assert run(text) == expected


def test_little_endian_and_unaligned_access():
    mem = bytearray(range(16))
    assert run("ldxdw r0, [r1+3]\nexit", mem) == int.from_bytes(bytes(range(3, 11)), "little")
    assert run("ldxh r0, [r1+15-1]\nexit".replace("15-1", "14"), mem) == 0x0F0E


def test_memory_is_aliased_and_writable():
    mem = bytearray(8)
    assert run("stxdw [r1], r2\nstb [r1+1], 0xaa\nmov r0, 0\nexit", mem) == 0
    assert mem == bytes([8, 0xAA, 0, 0, 0, 0, 0, 0])


def test_bytes_memory_is_read_only():
    err = run_err("stb [r1], 1\nexit", b"\x00")
    assert err.message == "write of 1 bytes at 0x300000000 into read-only memory"


def test_stack_is_512_bytes_and_zeroed():
    assert run("ldxdw r0, [r10-512]\nexit") == 0
    err = run_err("ldxdw r0, [r10-513]\nexit")
    assert err.message == (
        "out-of-bounds read of 8 bytes at 0xfffffffff "
        "(1 bytes below the start of stack frame 0 at 0x1000000000)"
    )
    err = run_err("ldxb r0, [r10+0]\nexit")
    assert "stack frame 0 is 512 bytes" in err.message
    assert err.pc == 0 and "out-of-bounds read of 1 bytes" in err.message
    err = run_err("ldxw r0, [r10-2]\nexit")  # straddles the end of the frame
    assert "out-of-bounds read of 4 bytes" in err.message


@pytest.mark.parametrize(
    "text, message",
    [
        ("mov r1, 0\nldxdw r0, [r1+0]", "invalid read of 8 bytes at 0x0 (null pointer)"),
        ("mov r1, 16\nstw [r1], 1", "invalid write of 4 bytes at 0x10 (null pointer)"),
        ("lddw r1, 0x7700000000\nldxb r0, [r1]", "(unmapped address)"),
        ("lddw r1, 0x300000008\nldxb r0, [r1]", "out-of-bounds read of 1 bytes"),
        ("ldxb r0, [r1-1]", "1 bytes below the start of memory at 0x300000000"),
        ("mov r1, 0\nldxb r0, [r1-1]", "read of 1 bytes at 0xffffffffffffffff (unmapped address)"),
        ("lddw r1, -1\nstb [r1+2], 0", "write of 1 bytes at 0x1 (null pointer)"),
        ("atomic_add64 [r1+4], r2", "out-of-bounds write of 8 bytes"),
    ],
)
def test_bad_accesses(text, message):
    err = run_err(f"{text}\nexit", bytearray(8))
    assert message in err.message


def test_context_and_payload():
    vm = Vm()
    ctx = make_context(
        interrupt_latency_ns=123, boot_time_ms=4, kernel_heap_kb=5, kernel_image_mb=6
    )
    payload = struct.pack("<QQ", 42, 7)
    text = """
        ldxdw r2, [r1+0]      ; data
        ldxdw r3, [r1+8]      ; data_end
        mov r4, r2
        add r4, 16
        jgt r4, r3, out
        ldxdw r0, [r2+8]
        ldxdw r5, [r1+24]
        add r0, r5
        exit
    out:
        mov r0, -1
        exit
    """
    assert vm.run(prog(text), ctx, payload) == 7 + 123
    # data/data_end are filled in by the VM: without payload they are 0
    assert vm.run(prog("ldxdw r0, [r1+0]\nldxdw r2, [r1+8]\nor r0, r2\nexit"), ctx) == 0
    # ctx given as None: all zero, but still 56 readable bytes
    assert vm.run(prog("ldxdw r0, [r1+48]\nexit")) == 0


def test_context_is_read_only_and_bounded():
    vm = Vm()
    err = pytest.raises(BpfRuntimeError, vm.run, prog("stdw [r1+24], 1\nexit")).value
    assert err.message == "write of 8 bytes at 0x100000018 into read-only context"
    err = pytest.raises(BpfRuntimeError, vm.run, prog("ldxdw r0, [r1+56]\nexit")).value
    assert "out-of-bounds read of 8 bytes" in err.message and "context is 56 bytes" in err.message


def test_payload_is_read_only_and_bounded():
    vm = Vm()
    text = "ldxdw r2, [r1+0]\nstb [r2], 1\nexit"
    err = pytest.raises(BpfRuntimeError, vm.run, prog(text), None, b"abcd").value
    assert "into read-only payload" in err.message
    text = "ldxdw r2, [r1+0]\nldxw r0, [r2+1]\nexit"
    err = pytest.raises(BpfRuntimeError, vm.run, prog(text), None, b"abcd").value
    assert "out-of-bounds read of 4 bytes" in err.message


def test_run_rejects_wrong_context_size():
    with pytest.raises(ValueError, match="56 bytes"):
        Vm().run(prog("exit"), bytes(8))
    assert BPF_CONTEXT_STRUCT.size == 56


# ---------------------------------------------------------------- atomics

ATOMIC_CASES = [
    # (insn, initial, r2, expected memory, expected r2 after)
    ("atomic_add64", 0xFFFF_FFFF_FFFF_FFFF, 2, 1, 2),
    ("atomic_or64", 0xF0, 0x0F, 0xFF, 0x0F),
    ("atomic_and64", 0xF0, 0x3C, 0x30, 0x3C),
    ("atomic_xor64", 0xFF, 0x0F, 0xF0, 0x0F),
    ("atomic_fetch_add64", 5, 3, 8, 5),
    ("atomic_fetch_or64", 0xF0, 0x0F, 0xFF, 0xF0),
    ("atomic_fetch_and64", 0xF0, 0x3C, 0x30, 0xF0),
    ("atomic_fetch_xor64", 0xFF, 0x0F, 0xF0, 0xFF),
    ("xchg64", 0x1122334455667788, 9, 9, 0x1122334455667788),
    ("atomic_add32", 0xAAAA_AAAA_FFFF_FFFF, 2, 0xAAAA_AAAA_0000_0001, 2),
    ("atomic_or32", 0xAAAA_AAAA_0000_00F0, 0x1_0000_000F, 0xAAAA_AAAA_0000_00FF, 0x1_0000_000F),
    ("atomic_and32", 0xAAAA_AAAA_0000_00F0, 0x3C, 0xAAAA_AAAA_0000_0030, 0x3C),
    ("atomic_xor32", 0xAAAA_AAAA_0000_00FF, 0x0F, 0xAAAA_AAAA_0000_00F0, 0x0F),
    ("atomic_fetch_add32", 0xAAAA_AAAA_FFFF_FFFF, 2, 0xAAAA_AAAA_0000_0001, 0xFFFF_FFFF),
    ("atomic_fetch_or32", 0xAAAA_AAAA_0000_00F0, 0x0F, 0xAAAA_AAAA_0000_00FF, 0xF0),
    ("atomic_fetch_and32", 0xAAAA_AAAA_0000_00F0, 0x3C, 0xAAAA_AAAA_0000_0030, 0xF0),
    ("atomic_fetch_xor32", 0xAAAA_AAAA_8000_00FF, 0x0F, 0xAAAA_AAAA_8000_00F0, 0x8000_00FF),
    ("xchg32", 0xAAAA_AAAA_8000_0000, -1, 0xAAAA_AAAA_FFFF_FFFF, 0x8000_0000),
]


@pytest.mark.parametrize("insn, initial, r2, mem_after, r2_after", ATOMIC_CASES)
def test_atomics(insn, initial, r2, mem_after, r2_after):
    mem = bytearray(initial.to_bytes(8, "little"))
    text = f"lddw r2, {r2 & M64:#x}\n{insn} [r1+0], r2\nmov r0, r2\nexit"
    assert run(text, mem) == r2_after
    assert int.from_bytes(mem, "little") == mem_after


@pytest.mark.parametrize(
    "width, initial, r0, r2, mem_after, r0_after",
    [
        ("64", 5, 5, 9, 9, 5),  # success: stores r2, r0 = old
        ("64", 5, 6, 9, 5, 5),  # failure: memory unchanged, r0 = old
        ("32", 0xAAAA_AAAA_0000_0005, 0xFFFF_FFFF_0000_0005, 9, 0xAAAA_AAAA_0000_0009, 5),
        ("32", 0xAAAA_AAAA_8000_0005, 6, 9, 0xAAAA_AAAA_8000_0005, 0x8000_0005),
    ],
)
def test_cmpxchg(width, initial, r0, r2, mem_after, r0_after):
    mem = bytearray(initial.to_bytes(8, "little"))
    text = f"lddw r0, {r0:#x}\nlddw r2, {r2:#x}\ncmpxchg{width} [r1], r2\nexit"
    assert run(text, mem) == r0_after
    assert int.from_bytes(mem, "little") == mem_after


def test_atomics_on_the_stack_and_read_only_targets():
    text = "stdw [r10-8], 40\nmov r1, 2\natomic_add64 [r10-8], r1\nldxdw r0, [r10-8]\nexit"
    assert run(text) == 42
    err = run_err("mov r0, 1\nmov r2, 1\ncmpxchg64 [r1], r2\nexit", bytes(8))
    assert "into read-only memory" in err.message  # even a failing compare must not write RO
