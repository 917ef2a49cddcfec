"""JMP / JMP32: every condition, signed vs unsigned, 64 vs 32 bits, ja/ja32."""

import pytest

from ._vmutil import run, run_err

OPS = ["jeq", "jne", "jgt", "jge", "jlt", "jle", "jset", "jsgt", "jsge", "jslt", "jsle"]

# (a, b, JMP results, JMP32 results) -- one T/F per entry of OPS, in order.
CASES = [
    (0xFFFF_FFFF_FFFF_FFFF, 1, "FTTTFFTFFTT", "FTTTFFTFFTT"),
    (0x1_0000_0001, 1, "FTTTFFTTTFF", "TFFTFTTFTFT"),
    (0x8000_0000, 0, "FTTTFFFTTFF", "FTTTFFFFFTT"),
    (5, 5, "TFFTFTTFTFT", "TFFTFTTFTFT"),
    (0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, "FTTTFFFFFTT", "FTFFTTFTTFF"),
]


def _prog(op: str, suffix: str, a: int, b: int, src: str) -> str:
    return f"""
        mov r0, 0
        lddw r1, {a:#x}
        lddw r2, {b:#x}
        {op}{suffix} r1, {src}, taken
        exit
    taken:
        mov r0, 1
        exit
    """


@pytest.mark.parametrize("a, b, res64, res32", CASES)
@pytest.mark.parametrize("i", range(len(OPS)))
def test_register_conditions(a, b, res64, res32, i):
    assert run(_prog(OPS[i], "", a, b, "r2")) == (res64[i] == "T")
    assert run(_prog(OPS[i], "32", a, b, "r2")) == (res32[i] == "T")


@pytest.mark.parametrize(
    "text, taken",
    [
        ("mov r1, 0\njsgt r1, -1, +1", True),  # imm sign-extended: 0 s> -1
        ("mov r1, 0\njgt r1, -1, +1", False),  # 0 > 0xffff_ffff_ffff_ffff is false
        ("mov32 r1, -1\njeq r1, -1, +1", False),  # 64-bit: 0xffffffff != 2**64-1
        ("mov32 r1, -1\njeq32 r1, -1, +1", True),
        ("mov32 r1, -1\njge32 r1, -1, +1", True),
        ("mov32 r1, -1\njslt32 r1, 0, +1", True),
        ("mov32 r1, -1\njslt r1, 0, +1", False),
        ("lddw r1, 0x100000000\njset32 r1, -1, +1", False),
        ("lddw r1, 0x100000000\njset r1, -1, +1", True),
        ("mov r1, 3\njle r1, 3, +1", True),
        ("mov r1, 3\njlt r1, 3, +1", False),
        ("mov r1, -5\njsle r1, -5, +1", True),
        ("mov r1, -5\njsge r1, -4, +1", False),
    ],
)
def test_immediate_conditions(text, taken):
    assert run(f"mov r0, 0\n{text}\nexit\nmov r0, 1\nexit") == int(taken)


def test_ja_and_ja32_and_backward_loop():
    assert run("mov r0, 1\nja +1\nmov r0, 2\nexit") == 1
    assert run("mov r0, 1\nja32 +1\nmov r0, 2\nexit") == 1
    loop = """
        mov r0, 0
        mov r1, 10
    top:
        add r0, 3
        sub r1, 1
        jne r1, 0, top
        exit
    """
    assert run(loop) == 30


def test_ja32_uses_imm_not_off():
    # .insn JMP32|JA with off=5 but imm=0: a plain fall-through per RFC 9669.
    assert run("mov r0, 4\n.insn 0x06, 0, 0, 5, 0\nexit") == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("ja +5\nexit", "jump target 6 is outside the program"),
        ("ja -2\nexit", "jump target -1 is outside the program"),
        ("jeq r1, 0, +10\nexit", "jump target 11 is outside"),
        ("mov r0, 1", "fell off the end of the program"),
        ("ja +1\nlddw r0, 5\nexit", "jump into the middle of ld_imm64 at 1"),
    ],
)
def test_bad_control_flow_is_a_runtime_error(text, message):
    err = run_err(text)
    assert message in err.message


def test_unreached_bad_jump_does_not_fail_the_load():
    assert run("mov r0, 9\nexit\nja +100") == 9


def test_budget_exhaustion():
    err = run_err("ja -1", budget=100)
    assert err.message == "instruction budget of 100 exhausted"
    assert err.pc == 0
    assert run("mov r0, 1\nexit", budget=2) == 1
    assert "budget of 1 exhausted" in run_err("mov r0, 1\nexit", budget=1).message
