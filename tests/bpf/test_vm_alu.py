"""ALU / ALU64 and byte-swap semantics, with RFC 9669 edge values."""

import pytest

from ._vmutil import M64, run

INT64_MIN = 0x8000_0000_0000_0000


@pytest.mark.parametrize(
    "body, expected",
    [
        # add / sub / mul: wrap at 64 bits, ALU32 truncates and zero-extends
        ("lddw r0, -1\nadd r0, 1", 0),
        ("mov r0, 0\nadd r0, -1", M64),
        ("lddw r0, 0x1ffffffff\nadd32 r0, 1", 0),
        ("lddw r0, 0xffffffff00000005\nadd32 r0, 0", 5),
        ("mov32 r0, -1", 0xFFFF_FFFF),
        ("mov r0, -1", M64),
        ("mov r1, -1\nmov32 r0, r1", 0xFFFF_FFFF),
        ("mov r0, 0\nsub32 r0, 1", 0xFFFF_FFFF),
        ("mov r0, 0\nsub r0, 1", M64),
        ("lddw r0, 0x100000000\nmul r0, 16", 0x10_0000_0000),
        ("lddw r0, 0x100000000\nmul32 r0, 16", 0),
        ("mov r0, -2\nmul r0, -3", 6),
        ("mov32 r0, 0x10000\nmul32 r0, 0x10000", 0),
        # unsigned div / mod (imm sign-extended first for ALU64)
        ("mov r0, 10\ndiv r0, 3", 3),
        ("mov r0, -1\ndiv r0, -1", 1),
        ("mov r0, 100\ndiv r0, -1", 0),
        ("mov32 r0, -1\ndiv32 r0, -1", 1),
        ("lddw r0, 0x100000006\ndiv32 r0, 4", 1),
        ("mov r0, 10\nmod r0, 3", 1),
        ("lddw r0, 0x100000007\nmod32 r0, 4", 3),
        # division by zero -> 0; modulo by zero leaves dst (ALU32: truncated)
        ("mov r0, 7\nmov r1, 0\ndiv r0, r1", 0),
        ("mov r0, 7\ndiv r0, 0", 0),
        ("mov r0, 7\nlddw r1, 0x100000000\ndiv32 r0, r1", 0),
        ("lddw r0, 0x123456789\nmov r1, 0\nmod r0, r1", 0x1_2345_6789),
        ("lddw r0, 0x123456789\nmod r0, 0", 0x1_2345_6789),
        ("lddw r0, 0x123456789\nmov r1, 0\nmod32 r0, r1", 0x2345_6789),
        ("lddw r0, 0x123456789\nlddw r1, 0x100000000\nmod32 r0, r1", 0x2345_6789),
        # signed div / mod truncate toward zero; INT_MIN / -1 wraps; by zero as above
        ("mov r0, -7\nsdiv r0, 2", (-3) & M64),
        ("mov r0, 7\nsdiv r0, -2", (-3) & M64),
        ("mov r0, -7\nmov r1, -2\nsdiv r0, r1", 3),
        ("mov r0, -7\nsmod r0, 2", M64),
        ("mov r0, 7\nsmod r0, -2", 1),
        ("mov r0, -7\nmov r1, -2\nsmod r0, r1", M64),
        (f"lddw r0, {INT64_MIN:#x}\nsdiv r0, -1", INT64_MIN),
        (f"lddw r0, {INT64_MIN:#x}\nsmod r0, -1", 0),
        ("mov r0, -7\nsdiv r0, 0", 0),
        ("mov r0, -7\nmov r1, 0\nsmod r0, r1", (-7) & M64),
        ("mov32 r0, 0x80000000\nsdiv32 r0, -1", 0x8000_0000),
        ("mov32 r0, 0x80000000\nsmod32 r0, -1", 0),
        ("lddw r0, 0x1fffffff9\nsdiv32 r0, 2", 0xFFFF_FFFD),
        ("mov32 r0, -7\nmov r1, 2\nsmod32 r0, r1", 0xFFFF_FFFF),
        ("mov r0, -7\nsdiv32 r0, 0", 0),
        ("mov r0, -7\nsmod32 r0, 0", 0xFFFF_FFF9),
        # bitwise
        ("lddw r0, -1\nand32 r0, -1", 0xFFFF_FFFF),
        ("lddw r0, -1\nor32 r0, 0", 0xFFFF_FFFF),
        ("lddw r0, -1\nxor32 r0, 1", 0xFFFF_FFFE),
        ("mov r0, 0xf0\nor r0, 0x0f", 0xFF),
        ("mov r0, 0xff\nand r0, -16", 0xF0),
        ("mov r0, 0\nxor r0, -1", M64),
        # shifts: amounts masked to the width
        ("mov r0, 1\nlsh r0, 64", 1),
        ("mov r0, 1\nlsh r0, 65", 2),
        ("mov r0, 1\nmov r1, 127\nlsh r0, r1", INT64_MIN),
        ("mov r0, 1\nlsh32 r0, 32", 1),
        ("mov r0, 1\nlsh32 r0, 33", 2),
        ("mov r0, 1\nlsh32 r0, 31", 0x8000_0000),
        ("lddw r0, 0x180000000\nlsh32 r0, 1", 0),
        (f"lddw r0, {INT64_MIN:#x}\nrsh r0, 63", 1),
        (f"lddw r0, {INT64_MIN:#x}\nrsh r0, 64", INT64_MIN),
        ("lddw r0, 0x100000000\nrsh32 r0, 0", 0),
        ("mov32 r0, 0x80000000\nrsh32 r0, 63", 1),
        (f"lddw r0, {INT64_MIN:#x}\narsh r0, 63", M64),
        (f"lddw r0, {INT64_MIN:#x}\narsh r0, 64", INT64_MIN),
        ("mov r0, -16\narsh r0, 2", (-4) & M64),
        ("mov32 r0, 0x80000000\narsh32 r0, 31", 0xFFFF_FFFF),
        ("lddw r0, 0xffffffff00000000\narsh32 r0, 1", 0),
        ("mov32 r0, 0x80000000\nmov r1, 36\narsh32 r0, r1", 0xF800_0000),
        # neg
        ("mov r0, 1\nneg r0", M64),
        ("mov r0, 0\nneg r0", 0),
        ("mov r0, 1\nneg32 r0", 0xFFFF_FFFF),
        (f"lddw r0, {INT64_MIN:#x}\nneg r0", INT64_MIN),
        ("lddw r0, 0x100000001\nneg32 r0", 0xFFFF_FFFF),
        # movsx
        ("mov r1, 0x80\nmovsx8 r0, r1", 0xFFFF_FFFF_FFFF_FF80),
        ("mov r1, 0x17f\nmovsx8 r0, r1", 0x7F),
        ("mov r1, 0x8000\nmovsx16 r0, r1", 0xFFFF_FFFF_FFFF_8000),
        ("mov32 r1, 0x80000000\nmovsx32 r0, r1", 0xFFFF_FFFF_8000_0000),
        ("lddw r1, 0xffffffff7fffffff\nmovsx32 r0, r1", 0x7FFF_FFFF),
        ("mov r1, 0x80\nmovsx8_32 w0, w1", 0xFFFF_FF80),
        ("mov r1, 0xffff\nmovsx16_32 w0, w1", 0xFFFF_FFFF),
        ("mov r1, 0x7fff\nmovsx16_32 w0, w1", 0x7FFF),
        # byte order
        ("lddw r0, 0x1122334455667788\nle16 r0", 0x7788),
        ("lddw r0, 0x1122334455667788\nle32 r0", 0x5566_7788),
        ("lddw r0, 0x1122334455667788\nle64 r0", 0x1122_3344_5566_7788),
        ("lddw r0, 0x1122334455667788\nbe16 r0", 0x8877),
        ("lddw r0, 0x1122334455667788\nbe32 r0", 0x8877_6655),
        ("lddw r0, 0x1122334455667788\nbe64 r0", 0x8877_6655_4433_2211),
        ("lddw r0, 0x1122334455667788\nbswap16 r0", 0x8877),
        ("lddw r0, 0x1122334455667788\nbswap32 r0", 0x8877_6655),
        ("lddw r0, 0x1122334455667788\nbswap64 r0", 0x8877_6655_4433_2211),
        # ld_imm64
        ("lddw r0, 0x8000000000000001", 0x8000_0000_0000_0001),
        ("lddw r0, map:7", 7),
    ],
)
def test_alu(body, expected):
    assert run(body + "\nexit") == expected


def test_registers_start_zero_except_r1_r2_r10():
    assert run("mov r0, r3\nor r0, r4\nor r0, r5\nor r0, r9\nexit") == 0
    assert run("mov r0, r2\nexit", bytearray(5)) == 5
    assert run("mov r0, r1\nexit") == 0  # no memory -> r1 = 0
