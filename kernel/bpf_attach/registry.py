"""The kernel's BPF state: maps, loaded programs, pins and attachments, hook runs.

This is what `sys_bpf` and the attach points drive. It still knows nothing about the
machine: time, the current task and logging come through a `HelperEnv`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from kernel.abi import (
    BPF_OBJ_KIND_MAP,
    BPF_OBJ_KIND_PROG,
    BPF_PROG_MAX_INSNS,
    AttachType,
    Errno,
)
from kernel.bpf.elf import load_object
from kernel.bpf.errors import BpfError, BpfRuntimeError, VerifierError
from kernel.bpf.interp.compiler import internal_error
from kernel.bpf.interp.memory import CTX_BASE
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa.insn import decode
from kernel.bpf.runtime.env import HelperEnv
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.runtime.old_helper_ids import old_numbering_hint
from kernel.bpf.verifier import ENTRY_SPECS, VerifierResult, verify
from kernel.tracer import KernelTracer

RUN_BUDGET = 1_000_000  # instructions per hook invocation
MAX_PROGRAMS = 1024  # loaded programs are never freed: E2BIG past this many
PROGRAM_BYTES_PER_INSN = 1024  # host cost per instruction (decoded + compiled code, ~700 B worst)
LOG_MODULE = "kernel::bpf"

HOOK_NAMES = {
    AttachType.TIMER: "BPF Timer Hook",
    AttachType.GPIO: "GPIO BPF Hook",
    AttachType.PWM: "PWM BPF Hook",
    AttachType.IIO: "IIO BPF Hook",
    AttachType.SYS_ENTER: "Syscall Trace",
    AttachType.SYS_EXIT: "SYS_EXIT BPF Hook",
    AttachType.SCHED_SWITCH: "SCHED_SWITCH BPF Hook",
    AttachType.GPIO: "GPIO BPF Hook",
    AttachType.PWM: "PWM BPF Hook",
}


class Pin(int):
    """A pinned object's id that also records what it is (map or program)."""

    kind: int

    def __new__(cls, obj_id: int, kind: int) -> Pin:
        pin = super().__new__(cls, obj_id)
        pin.kind = kind
        return pin

    def __repr__(self) -> str:
        return f"Pin({int(self)}, kind={self.kind})"


@dataclasses.dataclass
class LoadedProgram:
    """A verified program and what the verifier reported."""

    id: int
    name: str
    program: Program
    insn_count: int
    verifier_log: str
    attach_type: AttachType | None = None  # the hook it was verified for, if known
    payload_required: int = 0  # payload bytes read without a data_end check
    runs: int = 0
    failures: int = 0
    run_time_ns: int = 0  # modelled guest cost of all runs (instructions x ns/insn)
    insns_executed: int = 0


class BpfSubsystem:
    """Maps, programs, the pin table and per-hook attachment lists."""

    def __init__(self, env: HelperEnv, log: Callable[[str, str, str], None]) -> None:
        self.env = env
        self.log = log
        self.maps = MapTable()
        self.vm = Vm(self.maps, env)
        self.programs: list[LoadedProgram] = []
        self.pins: dict[str, Pin] = {}
        self.attached: dict[AttachType, list[int]] = {t: [] for t in AttachType}
        # Per hook: does any attached program read memory (so its payload must be
        # filled)? A `Program.pure` one cannot; see `BpfHooks.sys_enter`.
        self.reads_memory: dict[AttachType, bool] = {t: False for t in AttachType}
        self.on_change: Callable[[], None] = lambda: None
        self.ns_per_insn = 1  # the guest clock's rate; programs run outside guest time
        # The kernel's observer, a plain attribute read on every hook run (the kernel
        # keeps it current when the emulator installs its tracer).
        self.tracer: KernelTracer = KernelTracer()
        self._plain_helpers = self.vm.helpers
        self._helper_calls: list[int] = []
        self._recording_helpers = {
            k: _recording(k, fn, self._helper_calls) for k, fn in self._plain_helpers.items()
        }
        self.charge: Callable[[int], None] = lambda _nbytes: None  # the memory budget

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
        entry = ENTRY_SPECS[kind] if kind else None
        try:
            result = verify(insns, self.maps, entry, log_level=log_level, log_size=log_size)
        except VerifierError as err:
            hint = old_numbering_hint(insns)
            if hint is None:
                raise
            hinted = VerifierError(err.insn_idx, err.reason, f"{err.log.rstrip()}\n{hint}\n")
            hinted.insns_processed = err.insns_processed
            hinted.states_explored = err.states_explored
            raise hinted from None
        program = Program(insns, name)
        program.compiled  # noqa: B018 - translate once, at load, not on the first hook run
        return self._register(program, name, count, result, kind)

    def _register(
        self,
        program: Program,
        name: str,
        count: int,
        result: VerifierResult,
        kind: AttachType | None,
    ) -> LoadedProgram:
        self._account_program(count)
        loaded = LoadedProgram(
            len(self.programs), name, program, count, result.log, kind, result.payload_required
        )
        self.programs.append(loaded)
        return loaded

    def _account_program(self, count: int) -> None:
        """Programs stay loaded forever: bound their number and charge their memory."""
        if len(self.programs) >= MAX_PROGRAMS:
            raise BpfError(Errno.E2BIG, f"{MAX_PROGRAMS} programs are loaded, the kernel's limit")
        self.charge(count * PROGRAM_BYTES_PER_INSN)

    def load_elf(
        self, data: bytes, name: str | None, log_level: int = 0, log_size: int = 0
    ) -> list[LoadedProgram]:
        """Load every program of a BPF ELF object; pin its maps and programs by name.

        Userspace finds ids with OBJ_GET on `<obj>/<map>` and `<obj>/prog/<function>`
        (kernel/bpf/ELF_NOTES.md); reloading an object replaces its pins."""
        obj = load_object(data, self.maps, name=name, log_level=log_level, log_size=log_size)
        loaded = [
            self._register(p.program, p.name, len(p.insns), p.verifier, p.attach_type)
            for p in obj.programs
        ]
        programs = {f"{obj.name}/prog/{p.name}" for p in obj.programs}
        for path, obj_id in obj.pin_paths([p.id for p in loaded]).items():
            self.pins[path] = Pin(
                obj_id, BPF_OBJ_KIND_PROG if path in programs else BPF_OBJ_KIND_MAP
            )
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
        # Every type attaches on every board, as in the original: GPIO and PWM
        # programs simply never fire where there is no such hardware.
        return AttachType(value)

    def attach(self, kind: AttachType, prog_id: int) -> None:
        loaded = self.program(prog_id)
        if loaded.attach_type is not None and loaded.attach_type is not kind:
            raise BpfError(
                Errno.EINVAL,
                f"program {prog_id} was verified for {loaded.attach_type.name}, not {kind.name}",
            )
        self._check_payload(kind, loaded)
        if prog_id not in self.attached[kind]:
            self.attached[kind].append(prog_id)
            self._attached_changed(kind)

    def _check_payload(self, kind: AttachType, loaded: LoadedProgram) -> None:
        """EACCES unless the hook's fixed payload covers what the program reads unchecked."""
        need, have = loaded.payload_required, ENTRY_SPECS[kind].payload_size
        if need <= have:
            return
        message = (
            f"program {loaded.id} reads {need} payload bytes without a data_end check, "
            f"but the {kind.name} hook's payload is {have} bytes"
        )
        self.log("WARN", LOG_MODULE, f"PROG_ATTACH refused: {message}")
        raise BpfError(Errno.EACCES, message)

    def detach(self, kind: AttachType, prog_id: int) -> None:
        self.program(prog_id)
        if prog_id not in self.attached[kind]:
            raise BpfError(Errno.ENOENT, f"program {prog_id} is not attached to {kind.name}")
        self.attached[kind].remove(prog_id)
        self._attached_changed(kind)

    def _attached_changed(self, kind: AttachType) -> None:
        programs = self.programs
        self.reads_memory[kind] = any(not programs[p].program.pure for p in self.attached[kind])
        self.on_change()

    def active(self, kind: AttachType) -> bool:
        return bool(self.attached[kind])

    # ---------------------------------------------------------------- pins

    def pin(self, path: str, obj_id: int, kind: int = BPF_OBJ_KIND_MAP) -> None:
        """Pin a map (default) or, with kind BPF_OBJ_KIND_PROG, a program."""
        if kind == BPF_OBJ_KIND_PROG:
            self.program(obj_id)
        elif kind == BPF_OBJ_KIND_MAP:
            self.maps.get(obj_id)
        else:
            raise BpfError(Errno.EINVAL, f"unknown object kind {kind}")
        if path in self.pins:
            raise BpfError(Errno.EEXIST, f"{path!r} is already pinned")
        self.pins[path] = Pin(obj_id, kind)

    def get_pinned(self, path: str) -> Pin:
        try:
            return self.pins[path]
        except KeyError:
            raise BpfError(Errno.ENOENT, f"nothing pinned at {path!r}") from None

    # ---------------------------------------------------------------- hook runs

    def run_hook(
        self, kind: AttachType, ctx: bytes | None, payload: bytes | bytearray | None
    ) -> None:
        """Run every program attached to `kind`, in attach order, logging as axiomOS."""
        tracer = self.tracer
        vm, calls = self.vm, self._helper_calls
        traced = tracer.bpf
        vm.helpers = self._recording_helpers if traced else self._plain_helpers
        programs = self.programs
        for prog_id in tuple(self.attached[kind]):  # a helper may attach/detach meanwhile
            loaded = programs[prog_id]
            loaded.runs += 1
            if traced:
                calls.clear()
            error: str | None = None
            try:
                r0: int | None = vm.run(loaded.program, ctx, payload, budget=RUN_BUDGET)
            except BpfRuntimeError as err:
                r0, error = None, self._failed(kind, loaded, err)
            steps = vm.last_steps
            cost = steps * self.ns_per_insn
            loaded.insns_executed += steps
            loaded.run_time_ns += cost
            if traced:
                tracer.bpf_run(kind, loaded, r0, steps, cost, list(calls), error)
            if r0 is not None and (r0 or kind in _LOGS_ZERO):
                self._log_result(kind, prog_id, r0, payload)

    def _failed(self, kind: AttachType, loaded: LoadedProgram, err: BpfRuntimeError) -> str:
        """A run raised: count it and log the kernel's line; the error's text."""
        loaded.failures += 1
        self.log("ERROR", LOG_MODULE, f"{HOOK_NAMES[kind]} [id={loaded.id}] failed: {err}")
        return str(err)

    def fast_path(
        self, kind: AttachType, general: Callable[[Any, Any], None]
    ) -> Callable[[Any, Any], None] | None:
        """A per-event hook's runner for its common case, or None where there is none.

        With one `Program.pure` program attached (it reads no context, payload, stack
        or map and calls no helper) and no tracer wanting BPF runs, a hook run is
        `run_hook` minus everything that case cannot need: the returned
        ``run(a, b)`` (the hook's own arguments, ignored) calls the compiled function
        directly and keeps every counter, log line and error exactly as `run_hook`
        does. A tracer other than the one seen last (the emulator installs a new one
        whenever tracing changes) is checked once; if it wants BPF runs, ``general``
        (the hook's full path) runs instead. Rebuilt on every attach and detach.
        Only for hooks that log nothing on a zero R0 (SYS_ENTER, SYS_EXIT, SCHED_SWITCH)."""
        ids = self.attached[kind]
        if len(ids) != 1 or kind in _LOGS_ZERO:
            return None
        loaded = self.programs[ids[0]]
        program = loaded.program
        if not program.pure:
            return None
        fn = program.compiled
        vm = self.vm
        st = vm.pure_state()
        bpf = self
        tracer = self.tracer if not self.tracer.bpf else None
        budget = RUN_BUDGET

        # `run_hook` + `Vm.run` (its `_run_pure`) inlined for this one case: keep the
        # three in step.
        def run(a: Any, b: Any) -> None:
            nonlocal tracer
            if bpf.tracer is not tracer:
                if bpf.tracer.bpf:
                    return general(a, b)
                tracer = bpf.tracer
            loaded.runs += 1
            st.left = budget
            try:
                r0 = fn(st, CTX_BASE, 0, budget)
            except Exception as e:  # budget exhausted, or a compiler bug (as `Vm.run`)
                err = e if isinstance(e, BpfRuntimeError) else internal_error(-1, e)
                steps = vm.last_steps = budget - st.left
                bpf._failed(kind, loaded, err)
                loaded.insns_executed += steps
                loaded.run_time_ns += steps * bpf.ns_per_insn
                return None
            steps = vm.last_steps = budget - st.left
            loaded.insns_executed += steps
            loaded.run_time_ns += steps * bpf.ns_per_insn
            if r0:
                bpf._log_result(kind, loaded.id, r0, None)
            return None

        return run

    def _log_result(
        self, kind: AttachType, prog_id: int, r0: int, payload: bytes | bytearray | None
    ) -> None:
        signed = r0 - (1 << 64) if r0 >= 1 << 63 else r0
        if kind is AttachType.IIO:
            self.log("INFO", LOG_MODULE, f"IIO BPF Hook [id={prog_id}] returned: {signed}")
        elif kind is AttachType.PWM:
            self.log("INFO", LOG_MODULE, f"PWM BPF Hook [id={prog_id}] returned: {signed}")
        elif kind is AttachType.GPIO and payload is not None:
            pin, edge = int.from_bytes(payload[12:16], "little"), payload[16]
            self.log("INFO", LOG_MODULE, f"GPIO BPF Hook [id={prog_id}] pin={pin} edge={edge}")
        elif kind is AttachType.SYS_ENTER and r0:
            self.log("INFO", LOG_MODULE, f"Syscall Trace [id={prog_id}] syscall_nr: {signed}")
        elif kind in (AttachType.SYS_EXIT, AttachType.SCHED_SWITCH) and r0:
            self.log("INFO", LOG_MODULE, f"{HOOK_NAMES[kind]} [id={prog_id}] returned: {signed}")


def _recording(helper_id: int, fn: Callable[..., int], calls: list[int]) -> Callable[..., int]:
    """`fn`, noting its id in `calls` first (used only while a tracer wants BPF runs)."""

    def call(st: object, a: int, b: int, c: int, d: int, e: int) -> int:
        calls.append(helper_id)
        return fn(st, a, b, c, d, e)

    return call


_ATTACH_VALUES = {int(t) for t in AttachType}
# Hooks whose log line appears whatever the program returns (the others: only r0 != 0).
_LOGS_ZERO = frozenset({AttachType.IIO, AttachType.PWM, AttachType.GPIO})

__all__ = ["BpfSubsystem", "LoadedProgram", "VerifierError"]
