"""The guest BPF SDK (userspace/bpf/axiom_bpf.h), the C demo programs and their build.

The SDK takes its structs and numbers from the generated ``axiom_abi.h``; these
tests check, with the C compiler itself, that what a BPF program sees agrees with
kernel.abi, and that every helper of the ABI is declared with its number.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from kernel import abi
from kernel.bpf.elf import load_object, parse_object
from kernel.bpf.elf.maps import MAP_DEF
from kernel.bpf.interp.vm import Vm
from kernel.bpf.runtime.env import TestHelperEnv
from kernel.bpf.runtime.maps import MapTable, RingBufMap
from tests.bpf.c_elf import compile_source
from userspace import bpf_build

SDK = bpf_build.BPF_SRC / "axiom_bpf.h"
PAYLOADS = {
    "sys_enter_payload": (abi.SYS_ENTER_PAYLOAD, {"syscall_nr": 0, "arg1": 8, "arg6": 48}),
    "sys_exit_payload": (abi.SYS_EXIT_PAYLOAD, {"syscall_nr": 0, "result": 8}),
    "sched_switch_payload": (abi.SCHED_SWITCH_PAYLOAD, {"cpu_id": 0, "next_tid": 32}),
    "iio_payload": (abi.IIO_PAYLOAD, {"timestamp": 0, "device_id": 8, "value": 16, "offset": 24}),
    "gpio_payload": (abi.GPIO_PAYLOAD, {"chip_id": 8, "line": 12, "edge": 16, "value": 20}),
    "pwm_payload": (abi.PWM_PAYLOAD, {"period_ns": 16, "duty_ns": 20, "enabled": 28}),
}


def test_every_helper_is_declared_with_its_number() -> None:
    text = SDK.read_text()
    decls = dict(re.findall(r"\(\*bpf_(\w+)\)\([^;]*?\)\s*=\s*\(void \*\)BPF_FUNC_(\w+);", text))
    assert set(decls) == {h.name.lower() for h in abi.Helper}
    assert all(name == func for name, func in decls.items())


def _static_asserts() -> str:
    lines = [f'_Static_assert(sizeof(struct bpf_context) == {abi.BPF_CONTEXT_SIZE}, "ctx");']
    for field in abi.CtxOff:
        lines.append(
            f"_Static_assert(__builtin_offsetof(struct bpf_context, {field.name.lower()}) "
            f'== {int(field)}, "{field.name}");'
        )
    for name, (layout, offsets) in PAYLOADS.items():
        lines.append(f'_Static_assert(sizeof(struct {name}) == {layout.size}, "{name}");')
        for member, off in offsets.items():
            lines.append(
                f"_Static_assert(__builtin_offsetof(struct {name}, {member}) == {off}, "
                f'"{name}.{member}");'
            )
    for helper in abi.Helper:
        lines.append(
            f'_Static_assert(BPF_FUNC_{helper.name.lower()} == {int(helper)}, "{helper.name}");'
        )
    for mtype in abi.MapType:
        lines.append(f'_Static_assert(BPF_MAP_TYPE_{mtype.name} == {int(mtype)}, "{mtype.name}");')
    lines.append(f'_Static_assert(sizeof(struct bpf_map_def) >= {MAP_DEF.size}, "map def");')
    return "\n".join(lines)


def test_sdk_agrees_with_kernel_abi(tmp_path: Path) -> None:
    """Compile-time proof, plus: each helper pointer compiles to a call of its id."""
    calls = "\n".join(f"    r += (long)bpf_{h.name.lower()}({_args(h)});" for h in abi.Helper)
    src = tmp_path / "sdk_check.c"
    src.write_text(
        '#include "axiom_bpf.h"\n'
        + _static_asserts()
        + "\nBPF_MAP_DEF(m, BPF_MAP_TYPE_ARRAY, 4, 8, 1);\n"
        + 'SEC("timer") long all_helpers(struct bpf_context *ctx)\n{\n'
        + "    long r = 0; __u64 k = 0; char buf[16] = {0};\n"
        + calls
        + "\n    return r;\n}\n"
    )
    parsed = parse_object(compile_source(src))
    code = next(c for c in parsed.code.values() if c.name == "timer")
    ids = {i.imm for i in code.insns if i.is_helper_call}
    assert ids == {int(h) for h in abi.Helper}


def _args(helper: abi.Helper) -> str:
    """Plausible arguments for each helper's C prototype."""
    ctx_helpers = {
        abi.Helper.GET_INTERRUPT_LATENCY_NS,
        abi.Helper.GET_BOOT_TIME_MS,
        abi.Helper.GET_KERNEL_HEAP_KB,
        abi.Helper.GET_KERNEL_IMAGE_MB,
    }
    if helper in ctx_helpers:
        return "ctx"
    return {
        abi.Helper.TRACE_PRINTK: "buf, sizeof(buf)",
        abi.Helper.MAP_LOOKUP_ELEM: "&m, &k",
        abi.Helper.MAP_UPDATE_ELEM: "&m, &k, &k, 0",
        abi.Helper.MAP_DELETE_ELEM: "&m, &k",
        abi.Helper.RINGBUF_OUTPUT: "&m, &k, 8, 0",
        abi.Helper.TIMESERIES_PUSH: "&m, &k, &k",
        abi.Helper.GET_CURRENT_COMM: "buf, sizeof(buf)",
        abi.Helper.PROBE_READ: "buf, 8, &k",
        abi.Helper.MOTOR_EMERGENCY_STOP: "1",
        abi.Helper.GPIO_WRITE: "18, 1",
        abi.Helper.GPIO_READ: "17",
        abi.Helper.PWM_WRITE: "0, 1, 50",
    }.get(helper, "")


def test_build_demo_objects_stamped(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    outputs = bpf_build.build_bpf_objects("x86_64", build_dir=build_dir)
    assert outputs == {
        "bpf_loader": build_dir / "x86_64" / "bpf" / "bpf_loader.o",
        "ringbuf_demo": build_dir / "x86_64" / "bpf" / "ringbuf_demo.o",
        "syscount": build_dir / "x86_64" / "bpf" / "syscount.o",
        "rodata_demo": build_dir / "x86_64" / "bpf" / "rodata_demo.o",
    }
    before = {p: p.stat().st_mtime_ns for p in outputs.values()}
    bpf_build.build_bpf_objects("x86_64", build_dir=build_dir)
    assert {p: p.stat().st_mtime_ns for p in outputs.values()} == before  # stamps current
    assert not bpf_build.build_object(
        bpf_build.BPF_SRC / "ringbuf_demo.bpf.c", outputs["ringbuf_demo"], build_dir / "include"
    )
    assert bpf_build.main(["--arch", "x86_64", "--build-dir", str(build_dir)]) == 0


def test_bpf_loader_program_in_c_runs_the_pipeline() -> None:
    table = MapTable()
    obj = load_object(compile_source(bpf_build.BPF_SRC / "bpf_loader.bpf.c"), table)
    info = obj.map_info
    assert (info["counter"].map_type, info["counter"].value_size, info["counter"].max_entries) == (
        abi.MapType.ARRAY,
        8,
        1,
    )
    assert (info["events"].map_type, info["events"].max_entries) == (abi.MapType.RINGBUF, 4096)
    (prog,) = obj.programs
    assert (prog.name, prog.attach_type) == ("tick", abi.AttachType.TIMER)
    env = TestHelperEnv()
    vm = Vm(table, env)
    for _ in range(3):
        assert vm.run(prog.program) == 0
    ring = table.get(obj.maps["events"])
    assert isinstance(ring, RingBufMap)
    assert [struct.unpack("<Q", ring.poll(8))[0] for _ in range(3)] == [1, 2, 3]
    assert bytes(table.get(obj.maps["counter"]).lookup(bytes(4))) == struct.pack("<Q", 3)
    assert [m for _, _, m in env.logs] == ["[BPF] Tick!"] * 3


def test_ringbuf_demo_program_in_c() -> None:
    table = MapTable()
    obj = load_object(compile_source(bpf_build.BPF_SRC / "ringbuf_demo.bpf.c"), table)
    guest = (bpf_build.USERSPACE / "programs" / "ringbuf_elf_demo.c").read_text()
    printed = int(re.search(r"#define PROG_INSNS (\d+)", guest).group(1))
    assert len(obj.program("timestamp").insns) == printed  # the guest prints this count
    env = TestHelperEnv()
    Vm(table, env).run(obj.program("timestamp").program)
    events = table.get(obj.maps["events"])
    assert isinstance(events, RingBufMap)
    record = events.poll(64)
    assert record == struct.pack("<Q", env.ktime_ns())
