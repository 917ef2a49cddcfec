"""The kernel's BPF state: maps, loaded programs, pins and attachments, hook runs.

This is what `sys_bpf` and the attach points drive. It still knows nothing about the
machine: time, the current task and logging come through a `HelperEnv`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from kernel.abi import BPF_PROG_MAX_INSNS, AttachType, Errno
from kernel.bpf.elf import load_object
from kernel.bpf.env import HelperEnv
from kernel.bpf.errors import BpfError, BpfRuntimeError, VerifierError
from kernel.bpf.insn import decode
from kernel.bpf.maps import MapTable
from kernel.bpf.program import Program
from kernel.bpf.verifier import HOOK_SPECS, verify
from kernel.bpf.vm import Vm

RUN_BUDGET = 1_000_000  # instructions per hook invocation
LOG_MODULE = "kernel::bpf"

# Attach types with hardware on the pc and virt boards (GPIO/PWM are Raspberry Pi 5).
SUPPORTED_ATTACH = (
    AttachType.TIMER,
    AttachType.IIO,
    AttachType.SYS_ENTER,
    AttachType.SYS_EXIT,
    AttachType.SCHED_SWITCH,
)
HOOK_NAMES = {
    AttachType.TIMER: "BPF Timer Hook",
    AttachType.IIO: "IIO BPF Hook",
    AttachType.SYS_ENTER: "Syscall Trace",
    AttachType.SYS_EXIT: "SYS_EXIT BPF Hook",
    AttachType.SCHED_SWITCH: "SCHED_SWITCH BPF Hook",
}


@dataclasses.dataclass
class LoadedProgram:
    """A verified program and what the verifier reported."""

    id: int
    name: str
    program: Program
    insn_count: int
    verifier_log: str
    attach_type: AttachType | None = None  # the hook it was verified for, if known
    runs: int = 0
    failures: int = 0


class BpfSubsystem:
    """Maps, programs, the pin table and per-hook attachment lists."""

    def __init__(self, env: HelperEnv, log: Callable[[str, str, str], None]) -> None:
        self.env = env
        self.log = log
        self.maps = MapTable()
        self.vm = Vm(self.maps, env)
        self.programs: list[LoadedProgram] = []
        self.pins: dict[str, int] = {}
        self.attached: dict[AttachType, list[int]] = {t: [] for t in AttachType}
        self.on_change: Callable[[], None] = lambda: None

    # ---------------------------------------------------------------- programs

    def load(
        self,
        code: bytes,
        name: str = "",
        attach_hint: int = 0,
        log_level: int = 0,
        log_size: int = 0,
    ) -> LoadedProgram:
        """Verify and load; VerifierError (-> EACCES) or BpfError on bad input."""
        count = len(code) // 8
        if count == 0 or len(code) % 8:
            raise BpfError(Errno.EINVAL, "empty or partial instruction")
        if count > BPF_PROG_MAX_INSNS:
            raise BpfError(Errno.E2BIG, f"{count} instructions > {BPF_PROG_MAX_INSNS}")
        insns = decode(code)
        kind = AttachType(attach_hint) if attach_hint in _ATTACH_VALUES else None
        hook = HOOK_SPECS[kind] if kind else None
        result = verify(insns, self.maps, hook, log_level=log_level, log_size=log_size)
        return self._register(Program(insns, name), name, count, result.log, kind)

    def _register(
        self, program: Program, name: str, count: int, log: str, kind: AttachType | None
    ) -> LoadedProgram:
        loaded = LoadedProgram(len(self.programs), name, program, count, log, kind)
        self.programs.append(loaded)
        return loaded

    def load_elf(
        self, data: bytes, name: str | None, log_level: int = 0, log_size: int = 0
    ) -> list[LoadedProgram]:
        """Load every program of a BPF ELF object; pin its maps and programs by name.

        Userspace finds ids with OBJ_GET on `<obj>/<map>` and `<obj>/prog/<function>`
        (kernel/bpf/ELF_NOTES.md); reloading an object replaces its pins."""
        obj = load_object(data, self.maps, name=name, log_level=log_level, log_size=log_size)
        loaded = [
            self._register(p.program, p.name, len(p.insns), p.verifier.log, p.attach_type)
            for p in obj.programs
        ]
        self.pins.update(obj.pin_paths([p.id for p in loaded]))
        return loaded

    def program(self, prog_id: int) -> LoadedProgram:
        if not 0 <= prog_id < len(self.programs):
            raise BpfError(Errno.ENOENT, f"no program with id {prog_id}")
        return self.programs[prog_id]

    # ---------------------------------------------------------------- attachments

    @staticmethod
    def attach_type(value: int) -> AttachType:
        if value not in _ATTACH_VALUES:
            raise BpfError(Errno.EINVAL, f"unknown attach type {value}")
        kind = AttachType(value)
        if kind not in SUPPORTED_ATTACH:
            raise BpfError(Errno.ENODEV, f"attach type {kind.name} needs a Raspberry Pi 5")
        return kind

    def attach(self, kind: AttachType, prog_id: int) -> None:
        loaded = self.program(prog_id)
        if loaded.attach_type is not None and loaded.attach_type is not kind:
            raise BpfError(
                Errno.EINVAL,
                f"program {prog_id} was verified for {loaded.attach_type.name}, not {kind.name}",
            )
        if prog_id not in self.attached[kind]:
            self.attached[kind].append(prog_id)
            self.on_change()

    def detach(self, kind: AttachType, prog_id: int) -> None:
        self.program(prog_id)
        if prog_id not in self.attached[kind]:
            raise BpfError(Errno.ENOENT, f"program {prog_id} is not attached to {kind.name}")
        self.attached[kind].remove(prog_id)
        self.on_change()

    def active(self, kind: AttachType) -> bool:
        return bool(self.attached[kind])

    # ---------------------------------------------------------------- pins

    def pin(self, path: str, map_id: int) -> None:
        self.maps.get(map_id)
        if path in self.pins:
            raise BpfError(Errno.EEXIST, f"{path!r} is already pinned")
        self.pins[path] = map_id

    def get_pinned(self, path: str) -> int:
        try:
            return self.pins[path]
        except KeyError:
            raise BpfError(Errno.ENOENT, f"nothing pinned at {path!r}") from None

    # ---------------------------------------------------------------- hook runs

    def run_hook(self, kind: AttachType, ctx: bytes | None, payload: bytes | None) -> None:
        """Run every program attached to `kind`, in attach order, logging as axiomOS."""
        for prog_id in list(self.attached[kind]):
            loaded = self.programs[prog_id]
            loaded.runs += 1
            try:
                r0 = self.vm.run(loaded.program, ctx, payload, budget=RUN_BUDGET)
            except BpfRuntimeError as err:
                loaded.failures += 1
                self.log("ERROR", LOG_MODULE, f"{HOOK_NAMES[kind]} [id={prog_id}] failed: {err}")
                continue
            self._log_result(kind, prog_id, r0, payload)

    def _log_result(self, kind: AttachType, prog_id: int, r0: int, payload: bytes | None) -> None:
        signed = r0 - (1 << 64) if r0 >= 1 << 63 else r0
        if kind is AttachType.IIO:
            self.log("INFO", LOG_MODULE, f"IIO BPF Hook [id={prog_id}] returned: {signed}")
        elif kind is AttachType.SYS_ENTER and r0:
            self.log("INFO", LOG_MODULE, f"Syscall Trace [id={prog_id}] syscall_nr: {signed}")
        elif kind in (AttachType.SYS_EXIT, AttachType.SCHED_SWITCH) and r0:
            self.log("INFO", LOG_MODULE, f"{HOOK_NAMES[kind]} [id={prog_id}] returned: {signed}")


_ATTACH_VALUES = {int(t) for t in AttachType}

__all__ = ["BpfSubsystem", "LoadedProgram", "VerifierError"]
