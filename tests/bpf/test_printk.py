"""bpf_trace_printk with values: Linux's format rules (kernel/bpf/runtime/printk.py), the
helper (R3-R5, %s from program memory, -EINVAL at run time) and the verifier's
load-time check of a constant .rodata format (the SDK's bpf_printk)."""

from __future__ import annotations

import pytest

from kernel.abi import Errno
from kernel.bpf.elf import ElfVerifierError, load_object
from kernel.bpf.errors import VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.insn import ld_imm64
from kernel.bpf.runtime.env import TestHelperEnv
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.runtime.printk import FormatError, format_printk, parse_format
from kernel.bpf.verifier import verify
from tests.bpf.c_elf import compile_source

M64 = (1 << 64) - 1
STRINGS = {0x1000: b"world", 0x2000: b""}
MEMORY = {0x3000: bytes([192, 168, 1, 7]), 0x4000: bytes(range(16))}


def _fmt(fmt: str, *args: int) -> str:
    return format_printk(
        fmt.encode(),
        args,
        lambda a: STRINGS.get(a),
        lambda a, n: MEMORY.get(a, b"")[:n] if a in MEMORY else None,
    )


@pytest.mark.parametrize(
    ("fmt", "args", "text"),
    [
        ("plain", (), "plain"),
        ("100%%", (), "100%"),
        ("%d", (-5 & M64,), "-5"),
        ("%i", (7,), "7"),
        ("%d", (0xFFFF_FFFF,), "-1"),  # int: low 32 bits, sign-extended
        ("%u", (-1 & M64,), "4294967295"),
        ("%x", (0x1_DEAD_BEEF,), "deadbeef"),
        ("%X", (0xBEEF,), "BEEF"),
        ("%ld", (-1 & M64,), "-1"),
        ("%li", (1 << 40,), "1099511627776"),
        ("%lu", (-1 & M64,), "18446744073709551615"),
        ("%lx", (0x1_0000_0000,), "100000000"),
        ("%lld", (-(1 << 63) & M64,), "-9223372036854775808"),
        ("%lli", (42,), "42"),
        ("%llu", (1 << 63,), "9223372036854775808"),
        ("%llx", (0xCAFE_F00D_0000_0001,), "cafef00d00000001"),
        ("%5d|", (42,), "   42|"),
        ("%-5d|", (42,), "42   |"),
        ("%05d", (-42 & M64,), "-0042"),
        ("%08x", (0xBEEF,), "0000beef"),
        ("%08llx", (0xBEEF,), "0000beef"),
        ("%+d %+d", (3, -3 & M64), "+3 -3"),
        ("% d", (3,), " 3"),
        ("%-08d|", (5,), "5       |"),
        ("%c%c", (ord("o"), 0x100 + ord("k")), "ok"),
        ("%3c|", (ord("x"),), "  x|"),
        ("%s!", (0x1000,), "world!"),
        ("[%8s]", (0x1000,), "[   world]"),
        ("[%-8s]", (0x1000,), "[world   ]"),
        ("<%s>", (0x9999,), "<>"),  # unreadable: empty, as in Linux
        ("<%s>", (0x2000,), "<>"),
        ("%pks %pus", (0x1000, 0x1000), "world world"),
        ("%p", (0xFFFF_8000_0000_1234,), "ffff800000001234"),
        ("%px.", (0x10,), "0000000000000010."),
        ("%pI4", (0x3000,), "192.168.1.7"),
        ("%pi4", (0x3000,), "192.168.001.007"),
        ("%pI6", (0x4000,), "0001:0203:0405:0607:0809:0a0b:0c0d:0e0f"),
        ("%pi6", (0x4000,), "000102030405060708090a0b0c0d0e0f"),
        ("top=%d n=%llu", (39, 12), "top=39 n=12"),
        ("a=%d b=%d c=%d", (1, 2, 3), "a=1 b=2 c=3"),
        ("tab\tnew\n", (), "tab\tnew\n"),
    ],
)
def test_format_table(fmt: str, args: tuple[int, ...], text: str) -> None:
    assert _fmt(fmt, *args) == text


def test_output_is_bounded_like_linux() -> None:
    assert _fmt("%99999999999999999999d|", 7) == " " * 1022 + "7"  # width capped, output cut
    assert _fmt("%d" + "x" * 2000, 5) == "5" + "x" * 1022


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("%d %d %d %d", "more than 3 conversions (at offset 9)"),
        ("%q", "unsupported conversion '%q' at offset 0"),
        ("x=%.2d", "unsupported conversion '%.' at offset 2"),
        ("%#x", "unsupported conversion '%#' at offset 0"),
        ("%lf", "unsupported conversion '%lf' at offset 0"),
        ("%lllx", "unsupported conversion '%lll' at offset 0"),
        ("%sx", "'%s' at offset 0: %s must be followed by a space, punctuation or the end"),
        ("%pB", "unsupported pointer conversion '%pB' at offset 0"),
        ("end %", "incomplete conversion at offset 4 (end of format)"),
        ("bell\a %d", "non-printable character 0x07 at offset 4"),
        ("caf\u00e9 %d", "non-printable character 0xc3 at offset 3"),
    ],
)
def test_bad_formats_name_the_reason(fmt: str, reason: str) -> None:
    with pytest.raises(FormatError) as exc:
        parse_format(fmt.encode())
    assert str(exc.value).startswith(reason)


# ---------------------------------------------------------------- the helper in the VM

STACK_FMT = """
    lddw r1, {lo:#x}
    stxdw [r10-16], r1
    lddw r1, {hi:#x}
    stxdw [r10-8], r1
    mov r1, r10
    add r1, -16
    mov r2, 16
    mov r3, {a3}
    mov r4, -1
    mov r5, r10
    add r5, -8
    call trace_printk
    exit
"""


def _stack_prog(fmt: bytes, a3: int) -> Program:
    raw = fmt.ljust(16, b"\0")
    lo, hi = int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")
    return Program(assemble(STACK_FMT.format(lo=lo, hi=hi, a3=a3)), "p")


def test_helper_formats_r3_r5_and_reads_strings_from_the_stack() -> None:
    env = TestHelperEnv()
    vm = Vm(MapTable(), env)
    prog = _stack_prog(b"v=%d,%lld:%s\0\0\0\0", 7)
    assert vm.run(prog) == 0
    # R5 = fp-8: %s prints the format's own second half, "d:%s"
    assert env.messages == ["[BPF] v=7,-1:d:%s"]


def test_helper_bad_stack_format_is_einval_at_run_time() -> None:
    env = TestHelperEnv()
    prog = _stack_prog(b"bad %q\0", 1)  # not constant: the verifier cannot see it
    assert Vm(MapTable(), env).run(prog) == -int(Errno.EINVAL) & M64
    assert env.messages == []


def test_plain_string_prints_up_to_the_nul_whatever_size_says() -> None:
    env = TestHelperEnv()
    text = """
        lddw r1, 0x6f6c6c6568
        stxdw [r10-8], r1
        mov r1, r10
        add r1, -8
        mov r2, 2
        call trace_printk
        exit
    """
    assert Vm(MapTable(), env).run(Program(assemble(text), "p")) == 0
    assert env.messages == ["[BPF] hello"]


# ---------------------------------------------------------------- SDK bpf_printk + verifier


def _object(tmp_path, body: str) -> bytes:
    src = tmp_path / "pk.bpf.c"
    src.write_text(
        '#include "axiom_bpf.h"\n'
        'SEC("timer") int prog(struct bpf_context *ctx)\n{\n' + body + "\n    return 0;\n}\n"
    )
    return compile_source(src)


def test_sdk_bpf_printk_with_values_end_to_end(tmp_path) -> None:
    data = _object(
        tmp_path,
        "    __u64 n = bpf_ktime_get_ns();\n"
        '    char name[] = "cpu";\n'
        '    bpf_printk("top=%d n=%llu %s", 39, n, name);\n'
        '    bpf_printk("no args");\n'
        '    char fmt[] = "x=%d";\n'
        "    bpf_trace_printk(fmt, sizeof(fmt), 5);  /* libbpf's direct form, fmt on the stack */",
    )
    table = MapTable()
    obj = load_object(data, table)
    env = TestHelperEnv()
    assert Vm(table, env).run(obj.program("prog").program) == 0
    assert env.messages == ["[BPF] top=39 n=1000000 cpu", "[BPF] no args", "[BPF] x=5"]


def test_sdk_bpf_printk_takes_at_most_three_arguments(tmp_path) -> None:
    with pytest.raises(RuntimeError) as exc:
        _object(tmp_path, '    bpf_printk("%d %d %d %d", 1, 2, 3, 4);')
    assert "bpf_printk takes at most 3 arguments" in str(exc.value)


def test_bad_rodata_format_is_refused_by_the_verifier(tmp_path) -> None:
    data = _object(tmp_path, '    bpf_printk("n=%z", 1);')
    table = MapTable()
    with pytest.raises(ElfVerifierError) as exc:
        load_object(data, table)
    assert exc.value.reason == (
        "R1 invalid format string for trace_printk#2: unsupported conversion '%z' at offset 2"
    )
    assert len(table) == 0


RODATA_PROG = """
    mov r2, 8
    {setup}
    call trace_printk
    exit
"""


class _Rodata:
    map_type, key_size, max_entries = 2, 4, 1

    def __init__(self, content: bytes) -> None:
        self.value_size = len(content)
        self.readonly_value = content


@pytest.mark.parametrize(
    ("content", "off", "setup", "reason"),
    [
        (b"x=%d %d\0", 0, "mov r3, 1", "R4 !read_ok"),
        (b"x=%d %d\0", 0, "mov r3, 1\nmov r4, 2", None),
        (b"junk\0%d %d %d %d\0", 5, "", "R1 invalid format string for trace_printk#2: more than 3"),
        (b"junk\0%d %d %d %d\0", 0, "", None),  # "junk": the offset selects the string
    ],
)
def test_verifier_checks_a_constant_format(content, off, setup, reason) -> None:
    ld_fmt = ld_imm64(1, 7 | off << 32, src=op.BPF_PSEUDO_MAP_VALUE)
    insns = [*ld_fmt, *assemble(RODATA_PROG.format(setup=setup))]
    maps = {7: _Rodata(content)}
    if reason is None:
        verify(insns, maps)
        return
    with pytest.raises(VerifierError) as exc:
        verify(insns, maps)
    assert exc.value.reason.startswith(reason)
