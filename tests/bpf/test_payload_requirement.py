"""Payload reads without a data_end check (spec deviation 6): a constant offset is
accepted and recorded as the program's payload requirement, checked at PROG_ATTACH
against the hook's fixed payload size (or at load when the hook is known); variable
offsets still need the comparison. Plus the pre-HEAD helper numbering hint."""

from __future__ import annotations

import pytest

from kernel.abi import AttachType, Errno
from kernel.bpf.errors import BpfError, VerifierError
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.insn import encode
from kernel.bpf.runtime.env import NullHelperEnv
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.runtime.old_helper_ids import old_numbering_hint
from kernel.bpf.verifier import ENTRY_SPECS, verify
from kernel.bpf_attach.registry import BpfSubsystem

DATA = "ldxdw r2, [r1+0]\n"


def required(src: str, hook: AttachType | None = None) -> int:
    return verify(assemble(src), MapTable(), ENTRY_SPECS[hook] if hook else None).payload_required


def test_constant_reads_record_the_highest_end() -> None:
    assert required(DATA + "ldxdw r0, [r2+8]\nexit") == 16
    assert required(DATA + "ldxb r0, [r2+39]\nldxw r3, [r2+4]\nexit") == 40
    assert required(DATA + "add r2, 24\nldxdw r0, [r2+8]\nexit") == 40  # folded offset


def test_the_maximum_over_all_paths() -> None:
    src = "ldxdw r6, [r1+0]\ncall ktime_get_ns\njeq r0, 0, +2\nldxdw r0, [r6+48]\nexit\n"
    src += "ldxb r0, [r6+0]\nexit"
    assert required(src) == 56


def test_checked_reads_need_nothing() -> None:
    src = DATA + "ldxdw r3, [r1+8]\nmov r4, r2\nadd r4, 16\njgt r4, r3, +1\nldxdw r0, [r2+8]\n"
    assert required(src + "mov r0, 0\nexit") == 0


def test_helper_reads_of_the_payload_count() -> None:
    maps = MapTable()
    rb = maps.create(27, 0, 0, 4096)
    src = f"mov r6, r1\nldxdw r6, [r1+0]\nmov r1, {rb.id}\nmov r2, r6\nmov r3, 40\nmov r4, 0\n"
    result = verify(assemble(src + "call ringbuf_output\nmov r0, 0\nexit"), maps)
    assert result.payload_required == 40


def test_variable_offsets_still_need_data_end() -> None:
    src = "ldxdw r6, [r1+0]\ncall ktime_get_ns\nand r0, 8\nadd r6, r0\nldxdw r0, [r6+0]\nexit"
    with pytest.raises(VerifierError, match="invalid access to packet, off=0 size=8"):
        required(src)


def test_known_hook_checks_at_load() -> None:
    assert required(DATA + "ldxdw r0, [r2+8]\nexit", AttachType.SYS_EXIT) == 16
    with pytest.raises(VerifierError, match="invalid access to packet, off=16 size=1"):
        required(DATA + "ldxb r0, [r2+16]\nexit", AttachType.SYS_EXIT)
    with pytest.raises(VerifierError, match="invalid access to packet, off=0 size=1"):
        required(DATA + "ldxb r0, [r2+0]\nexit", AttachType.TIMER)


def _subsystem() -> tuple[BpfSubsystem, list[tuple[str, str, str]]]:
    logged: list[tuple[str, str, str]] = []
    return BpfSubsystem(NullHelperEnv(), lambda *a: logged.append(a)), logged


def test_attach_checks_the_requirement_against_each_hook() -> None:
    bpf, logged = _subsystem()
    prog = bpf.load(encode(assemble(DATA + "ldxdw r0, [r2+32]\nmov r0, 0\nexit")))
    assert prog.payload_required == 40
    for kind in (AttachType.SCHED_SWITCH, AttachType.SYS_ENTER):
        bpf.attach(kind, prog.id)
    for kind, size in ((AttachType.TIMER, 0), (AttachType.SYS_EXIT, 16), (AttachType.IIO, 32)):
        with pytest.raises(BpfError) as err:
            bpf.attach(kind, prog.id)
        assert err.value.errno == Errno.EACCES
        assert logged[-1] == (
            "WARN",
            "kernel::bpf",
            f"PROG_ATTACH refused: program 0 reads 40 payload bytes without a data_end "
            f"check, but the {kind.name} hook's payload is {size} bytes",
        )
        assert prog.id not in bpf.attached[kind]


def test_gpio_and_pwm_attach_on_every_board() -> None:
    bpf, _ = _subsystem()
    prog = bpf.load(encode(assemble("mov r0, 0\nexit")))
    for kind in (AttachType.GPIO, AttachType.PWM):
        assert bpf.attach_type(int(kind)) is kind
        bpf.attach(kind, prog.id)
        assert bpf.attached[kind] == [prog.id]
    with pytest.raises(BpfError) as err:
        bpf.attach_type(99)
    assert err.value.errno == Errno.EINVAL


# ---------------------------------------------------------------- old helper numbering

OLD_LOOKUP = """
    stw [r10-4], 0
    mov r1, 0
    mov r2, r10
    add r2, -4
    call 3
    jeq r0, 0, +3
    ldxdw r1, [r0+0]
    add r1, 1
    stxdw [r0+0], r1
    mov r0, 0
    exit
"""


def test_old_numbering_gets_a_hint_in_the_log() -> None:
    bpf, _ = _subsystem()
    with pytest.raises(VerifierError) as err:
        bpf.load(encode(assemble(OLD_LOOKUP)))
    last = err.value.log.rstrip("\n").splitlines()[-1]
    assert last.startswith("hint: this program calls helper 3 with a map id in R1")
    assert "the current ids are map_lookup_elem 5, map_update_elem 6" in last
    assert err.value.reason == "R0 invalid mem access 'scalar'"


def test_old_ringbuf_output_gets_the_hint() -> None:
    src = "stdw [r10-8], 1\nmov r1, 0\nmov r2, r10\nadd r2, -8\nmov r3, 8\nmov r4, 0\ncall 6\n"
    hint = old_numbering_hint(assemble(src + "mov r0, 0\nexit"))
    assert hint is not None and "helper 6 with a map id" in hint


def test_current_uses_of_3_and_4_get_no_hint() -> None:
    assert old_numbering_hint(assemble("call 3\nmov r1, r0\ncall 4\nexit")) is None
    bpf, _ = _subsystem()
    with pytest.raises(VerifierError) as err:  # rejected for another reason: no hint
        bpf.load(encode(assemble("call get_prandom_u32\nldxdw r0, [r0+0]\nexit")))
    assert "hint:" not in err.value.log
