"""The verifier's main pass: abstract interpretation of every path.

A depth-first walk over program paths, Linux-style: the current state advances
instruction by instruction; a conditional jump whose outcome is not known forks
(the other branch is pushed on a stack); at prune points the state is compared
with states stored there earlier and the path is cut when an explored one
subsumes it (`prune.states_equal`). Loops need no special casing: a bounded loop
is unrolled by the walk until its exit condition is decided, an unbounded one
runs into the processed-instruction budget and is rejected as too complex, and
coming back to a state already seen on the same path is an infinite loop.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Literal, NoReturn

from kernel.abi import Helper, MapType
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, ld_imm64_value
from kernel.bpf.runtime.helper_protos import HELPER_PROTOS, Arg, Ret
from kernel.bpf.verifier import scalar
from kernel.bpf.verifier.alu import do_alu
from kernel.bpf.verifier.branch import (
    NOTHING,
    NullCheck,
    Outcome,
    PacketRange,
    ScalarRanges,
)
from kernel.bpf.verifier.cfg import ProgInfo
from kernel.bpf.verifier.entry import EntrySpec
from kernel.bpf.verifier.mem import (
    check_access,
    check_helper_mem,
    check_helper_mem_write,
    sized_unknown,
)
from kernel.bpf.verifier.precision import (
    NONE,
    RECENT_MAX,
    History,
    backtrack,
    backtrack_above,
    slot_key,
)
from kernel.bpf.verifier.printk_fmt import check_const_format
from kernel.bpf.verifier.prune import states_equal, states_same
from kernel.bpf.verifier.state import (
    CONST_MAP,
    NOT_INIT,
    PTR_TO_CTX,
    PTR_TO_MAP_VALUE,
    PTR_TO_MAP_VALUE_OR_NULL,
    PTR_TO_MEM,
    PTR_TO_PACKET,
    PTR_TO_PACKET_END,
    PTR_TO_STACK,
    REG_NOT_INIT,
    SCALAR,
    SLOT_SPILL,
    TYPE_NAMES,
    ZERO,
    Checkpoint,
    Frame,
    KnownReg,
    MapInfo,
    Reg,
    Slot,
    VerifierState,
    const_reg,
    map_label,
    scalar_reg,
)

ZERO_S = scalar.const(0)
LOOP_CHECKS = 1  # unfinished states compared for the infinite-loop check
LOOP_ADD_INSNS = 100  # in a loop, store a state after this many insns ...
LOOP_ADD_JMPS = 20  # ... or this many jumps since the last stored one (Linux's)
MAX_PENDING = 8192  # Linux's BPF_COMPLEXITY_LIMIT_JMP_SEQ
COMBINED_STACK_LIMIT = op.STACK_SIZE * op.MAX_CALL_FRAMES

_JOPS = {
    op.JEQ: "jeq",
    op.JNE: "jne",
    op.JGT: "jgt",
    op.JGE: "jge",
    op.JLT: "jlt",
    op.JLE: "jle",
    op.JSGT: "jsgt",
    op.JSGE: "jsge",
    op.JSLT: "jslt",
    op.JSLE: "jsle",
    op.JSET: "jset",
}


class TraceLog:
    """The log_level 2 trace: one line per processed instruction with the state
    after it, prune hits, branch starts.

    Entries are kept unformatted (the instruction index and a copy of the current
    frame's registers and stack, all immutable values) in a ring of ``max_lines``,
    and only the survivors are formatted, at the end: sys_bpf keeps only the end of
    the log, so a 1 M-instruction walk costs a copy per instruction, not a line of
    text, and the host never holds more than the tail."""

    def __init__(self, max_lines: int = 1 << 18) -> None:
        from collections import deque

        self.entries: deque[tuple] = deque(maxlen=max_lines)
        self.v: Verifier | None = None

    def append(self, line: str) -> None:
        self.entries.append((line,))

    def insn(self, v: Verifier, st: VerifierState, idx: int) -> None:
        self.v = v
        nodes = v.history.nodes
        prev = nodes[st.hist + 1] if st.hist != NONE else NONE
        prev_idx = nodes[prev] if prev != NONE else -1
        width = 2 if prev != NONE and v.insns[prev_idx].opcode == op.LD_IMM64 else 1
        if prev == NONE or prev_idx + width != idx:
            # a path starts (or resumes after a jump): Linux prints the state first
            where = f"from {prev_idx} to {idx}: " if prev != NONE else f"{idx}: "
            f = st.cur
            self.entries.append((where, list(f.regs), dict(f.stack)))
        self.entries.append((idx, None, None))

    def state(self, st: VerifierState) -> None:
        e = self.entries
        if e and len(e[-1]) == 3 and isinstance(e[-1][0], int):
            f = st.cur
            e[-1] = (e[-1][0], list(f.regs), dict(f.stack))

    @property
    def lines(self) -> list[str]:
        """The trace as text (formatted now, from the kept entries)."""
        from kernel.bpf.verifier.log import format_insn

        v = self.v
        out = []
        for e in self.entries:
            if len(e) == 1:
                out.append(e[0])
                continue
            head, regs, stack = e
            state = None if regs is None else _fmt_frame(regs, stack)
            if isinstance(head, str):
                out.append(head + (state or ""))
            else:
                text = format_insn(v.insns, head, v.maps.names) if v is not None else str(head)
                out.append(text if state is None else f"{text} ; {state}")
        return out


def _fmt_frame(regs: list[Reg], stack: dict) -> str:
    f = Frame(regs, stack, -1, 0)
    return VerifierState([f], 0).fmt_regs()


class Reject(Exception):
    """Internal: the current path is unsafe at ``idx``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MapResolver:
    """Looks map ids up in the caller's table once, caching `MapInfo` snapshots."""

    def __init__(self, maps: object) -> None:
        self._maps = maps
        self._cache: dict[int, MapInfo | None] = {}
        self.names: dict[int, str] = {}  # map id -> ELF name, for the log

    def get(self, map_id: int) -> MapInfo | None:
        if map_id in self._cache:
            return self._cache[map_id]
        info = None
        if 0 <= map_id < 1 << 32:
            try:
                m = self._maps.get(map_id)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - any lookup failure means "no such map"
                m = None
            if m is not None:
                info = MapInfo(
                    map_id,
                    int(m.map_type),
                    int(m.key_size),
                    int(m.value_size),
                    int(m.max_entries),
                    str(getattr(m, "name", "") or ""),
                    bool(getattr(m, "frozen", False) or getattr(m, "read_only", False)),
                )
                if info.name:
                    self.names[map_id] = info.name
        self._cache[map_id] = info
        return info

    def readonly_value(self, map_id: int) -> bytes | None:
        """Element 0 of a read-only map known at load time (``.rodata``), else None."""
        try:
            m = self._maps.get(map_id)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            return None
        return getattr(m, "readonly_value", None)


class Verifier:
    """One verification run; see `kernel.bpf.verifier.verify`."""

    PKT_BASE_ID = 1  # id shared by every packet pointer loaded from ctx->data

    def __init__(
        self,
        insns: Sequence[Insn],
        info: ProgInfo,
        maps: object,
        entry: EntrySpec,
        max_insns: int,
        max_states: int,
    ) -> None:
        self.insns = insns
        self.info = info
        self.maps = MapResolver(maps)
        self.entry = entry
        self.mem_size = entry.raw_mem_size or 0
        self.max_insns = max_insns
        self.max_states = max_states
        self.processed = 0
        self.total_states = 0
        self.peak_states = 0
        self.peak_stack = 0
        self._id = self.PKT_BASE_ID
        # finished checkpoints (may prune) and unfinished ones (ancestors of the
        # current path or of a pending one: only the infinite-loop check uses them)
        self.explored: dict[int, list[Checkpoint]] = {}
        self.unfinished: dict[int, list[Checkpoint]] = {}
        self.history = History()  # path nodes of every path, checkpoints by number
        self.jmps = 0
        # pending paths per target insn: the current path stores its state when it
        # gets there first, so the sibling arriving later is pruned at the join
        self.join_hints: dict[int, int] = {}
        self._last_add = (0, 0)  # (processed, jmps) when the last state was stored
        self.log_level = 0
        self.trace = TraceLog()
        self.idx = 0
        self.state: VerifierState | None = None
        self.fast = [_fast_entry(insn, i) for i, insn in enumerate(insns)]
        for i, insn in enumerate(insns):  # map names for the log, before any line
            if insn.opcode == op.LD_IMM64 and insn.src in (1, 2) and not info.second_slot[i]:
                self.maps.get(insn.imm & 0xFFFF_FFFF)
        self.joins = _join_points(insns, info)
        self.pending: list[VerifierState] = []

    # ------------------------------------------------------------ utilities

    def new_id(self) -> int:
        self._id += 1
        return self._id

    def fail(self, reason: str) -> NoReturn:
        raise Reject(reason)

    def read_reg(self, st: VerifierState, r: int) -> Reg:
        reg = st.cur.regs[r]
        if reg.type == NOT_INIT:
            self.fail(f"R{r} !read_ok")
        return reg

    def note_stack(self, st: VerifierState) -> None:
        total = sum((f.depth + 7) & ~7 for f in st.frames)
        if total > self.peak_stack:
            self.peak_stack = total
        if total > COMBINED_STACK_LIMIT:
            self.fail(f"combined stack size of {len(st.frames)} calls is {total}. Too large")

    # ------------------------------------------------------------ driver

    def initial_state(self) -> VerifierState:
        regs = [REG_NOT_INIT] * op.NUM_REGS
        if self.entry.raw_mem_size is not None:
            regs[1] = Reg(PTR_TO_MEM, ZERO_S)
            regs[2] = const_reg(self.entry.raw_mem_size)
        else:
            regs[1] = Reg(PTR_TO_CTX, ZERO_S)
        regs[op.FP] = Reg(PTR_TO_STACK, ZERO_S, frame=0)
        return VerifierState([Frame(regs, {}, -1, 0)], 0)

    def run(self) -> None:
        pending = self.pending = [self.initial_state()]
        hints = self.join_hints
        hints[0] = 1
        while pending:
            st = pending.pop()
            hints[st.idx] -= 1
            self.state = st
            self._walk(st, pending)

    def _walk(self, st: VerifierState, pending: list[VerifierState]) -> None:
        insns = self.insns
        prune = self.info.prune
        trace = self.log_level >= 2
        fast = [None] * len(insns) if trace else self.fast
        limit = self.max_insns
        frames = st.frames  # the same list for the whole walk (calls push/pop it)
        unfinished, explored, hints = self.unfinished, self.explored, self.join_hints
        _scalar, _reg, _new = SCALAR, Reg, object.__new__
        _known = KnownReg
        n = self.processed
        idx = st.idx
        depth = len(frames) - 1  # current frame index, changed only by calls and exits
        regs = frames[-1].regs  # its registers (the list changes only with the frame)
        jmps = self.jmps
        history = self.history
        nodes = history.recent
        hist = st.hist
        nh = len(history)  # the next node's name (only this walk appends nodes)
        # no state is stored in a loop before n reaches add_n or jmps reaches add_j
        add_n = self._last_add[0] + LOOP_ADD_INSNS
        add_j = self._last_add[1] + LOOP_ADD_JMPS
        # ``n``, ``idx`` and ``hist`` live in locals; self.processed, self.idx, st.idx
        # and st.hist are written back before anything that reads them (state
        # storing, precision marks, the general instruction handlers, a rejection's log)
        while True:
            n += 1
            if n > limit:
                st.idx = self.idx = idx
                st.hist = hist
                self.processed, self.jmps = n, jmps
                self._too_complex(st)
            if prune[idx] and not (
                # inside a loop, between two stored states: nothing to compare or store
                n < add_n
                and jmps < add_j
                and unfinished.get(idx)
                and idx not in explored
                and not hints.get(idx)
            ):
                st.idx = self.idx = idx
                st.hist = hist
                self.processed, self.jmps = n, jmps
                if len(nodes) > RECENT_MAX:
                    history.flush()
                c = self._visited(st)
                if c is True:
                    self._finish(st)
                    return
                add_n = self._last_add[0] + LOOP_ADD_INSNS
                add_j = self._last_add[1] + LOOP_ADD_JMPS
                nodes += (idx, hist, depth, NONE if c is None else c.no)
            else:
                nodes += (idx, hist, depth, NONE)
            hist = nh
            nh += 4
            f = fast[idx]
            if f is not None:
                # known values (loop counters): same result as the general path. The
                # walk's hottest code: Scalar fields by index here (0 = value, 1 = mask),
                # a named-field read costs a descriptor call per access; results are
                # KnownRegs, whose Scalar is built only if something reads it
                kind, dst, src, b, fn, mask, target, edge = f
                d = regs[dst]
                if type(d) is _known:
                    dv = d.k
                elif d.type == _scalar and not (ds := d.s)[1]:
                    dv = ds[0]
                else:
                    dv = None
                if dv is not None:
                    bprec = True
                    if src >= 0:
                        sr = regs[src]
                        if type(sr) is _known:
                            b, bprec = sr.k & mask, sr.prec
                        elif sr.type == _scalar and not (ss := sr.s)[1]:
                            b, bprec = ss[0] & mask, sr.prec
                        else:
                            b = None
                    if b is not None:
                        if kind != 1:  # ALU (0: add, inlined)
                            # = Reg(SCALAR, scalar.const(u), prec=...) without the
                            # __init__ call (a third of this instruction's cost)
                            r = _new(_known)
                            r.type = _scalar
                            r.k = (dv + b) & mask if kind == 0 else fn(dv & mask, b) & mask
                            r.off = r.id = r.rng = r.frame = 0
                            r.map = None
                            r.prec = d.prec and bprec
                            regs[dst] = r
                            idx += 1
                            continue
                        jmps += 1
                        if not (d.prec and bprec):
                            self.processed, self.idx = n, idx
                            st.hist = hist
                            self.mark_precise(st, dst, src)
                        if fn(dv & mask, b):
                            if target <= idx:
                                st.last_back_edge = edge
                            idx = target
                        else:
                            idx += 1
                        continue
            st.idx = idx
            st.hist = hist
            self.processed, self.idx, self.jmps = n, idx, jmps
            insn = insns[idx]
            cls = insn.opcode & op.CLASS_MASK
            if trace:
                self.trace.insn(self, st, idx)
            if cls == op.ALU64 or cls == op.ALU:
                do_alu(self, st, insn)
                st.idx = idx + 1
            elif cls == op.LDX:
                mode = insn.opcode & op.MODE_MASK
                loaded = check_access(
                    self,
                    st,
                    insn.src,
                    insn.off,
                    insn.size_bytes,
                    "read",
                    signed=mode == op.MEMSX,
                )
                assert loaded is not None  # a read always yields the loaded value
                st.cur.regs[insn.dst] = loaded
                st.idx = idx + 1
            elif cls == op.ST:
                value = const_reg(insn.imm)
                check_access(self, st, insn.dst, insn.off, insn.size_bytes, "write", value)
                st.idx = idx + 1
            elif cls == op.STX:
                self._stx(st, insn)
                st.idx = idx + 1
            elif cls == op.LD:
                self._ld_imm64(st, insn, insns[idx + 1])
                st.idx = idx + 2
            else:
                self.jmps += 1
                if not self._jmp(st, insn, idx, pending):
                    self._finish(st)
                    return
            if trace:
                self.trace.state(st)
            idx = st.idx
            depth = len(frames) - 1
            regs = frames[-1].regs
            jmps = self.jmps

    def _too_complex(self, st: VerifierState) -> NoReturn:
        limit = f"processed {self.processed - 1} insns (limit {self.max_insns})"
        if st.last_back_edge is not None:
            a, b = st.last_back_edge
            self.fail(f"back-edge from insn {a} to {b}: program too complex, {limit}")
        self.fail(f"BPF program is too large: program too complex, {limit}")

    def _finish(self, st: VerifierState) -> None:
        """The path ended (exit, pruned, dead branch): release its checkpoints."""
        cp = st.parent
        while cp is not None:
            cp.branches -= 1
            if cp.branches > 0:
                break
            self._retire(cp)
            cp = cp.parent

    def _retire(self, cp: Checkpoint) -> None:
        """Every path below ``cp`` ended safely: from now on it may prune."""
        lst = self.unfinished[cp.idx]
        for i in range(len(lst) - 1, -1, -1):
            if lst[i] is cp:
                del lst[i]
                break
        self.explored.setdefault(cp.idx, []).append(cp)

    # ------------------------------------------------------------ pruning

    def mark_precise(self, st: VerifierState, *regs: int) -> None:
        """A safety decision depends on the value of these scalar registers.

        The demand is walked back along the path (`precision.backtrack`) into
        every checkpoint it passes; the registers are flagged ``prec`` so the
        same demand is not walked again while the value only moves or changes
        by constants (a loop counter costs one walk, not one per iteration).
        """
        f = st.cur
        fi = len(st.frames) - 1
        keys = set()
        for r in regs:
            if r < 0:
                continue
            reg = f.regs[r]
            if reg.type == SCALAR and not reg.prec:
                keys.add(fi * 16 + r)
                f.regs[r] = reg.replace(prec=True)
        if keys:
            backtrack(self.insns, self.history, st.hist, keys)

    def mark_slot_precise(self, st: VerifierState, frameno: int, off: int, size: int) -> None:
        """The bytes ``[off, off+size)`` of a frame's stack decided something."""
        keys = {slot_key(frameno, b) for b in range(off, off + size)}
        backtrack(self.insns, self.history, st.hist, keys)

    def _propagate(self, old: VerifierState, cp: Checkpoint, st: VerifierState) -> None:
        """``st`` was pruned by ``cp``: its ancestors need what ``old`` relied on."""
        keys = set(cp.precise)
        for fi, f in enumerate(old.frames):
            for r, reg in enumerate(f.regs):
                if reg.type == SCALAR and (reg.id or reg.prec):
                    keys.add(fi * 16 + r)
            for k, slot in f.stack.items():
                sp = slot.spill
                if (sp is not None and sp.type == SCALAR and (sp.id or sp.prec)) or (
                    slot.narrow is not None and slot.narrow[2].prec
                ):
                    keys.add(slot_key(fi, k * 8))
        if keys:
            backtrack_above(self.insns, self.history, st.hist, len(st.frames) - 1, keys)

    def _visited(self, st: VerifierState) -> Checkpoint | Literal[True] | None:
        """Linux's is_state_visited: prune ``st``, detect a loop, or store a state."""
        idx = st.idx
        anc = self.unfinished.get(idx)
        lst = self.explored.get(idx)
        if (
            anc
            and not lst
            and self.processed - self._last_add[0] < LOOP_ADD_INSNS
            and self.jmps - self._last_add[1] < LOOP_ADD_JMPS
            and not self.join_hints.get(idx)
        ):
            return None  # the common case inside a loop: nothing to compare or store
        live = self.info.live
        looping = bool(anc)
        if lst:
            for i in range(len(lst) - 1, -1, -1):
                cp = lst[i]
                if states_equal(cp.state, st, live, cp.precise):
                    cp.hits += 1
                    self._propagate(cp.state, cp, st)
                    if self.log_level >= 2:
                        self.trace.append(f"{idx}: safe")
                    return True
                cp.misses += 1
                if cp.misses > cp.hits * 3 + 3:
                    del lst[i]  # rarely useful: stop paying for the comparison
                    # and free its state: never compared again (`History` keeps the
                    # checkpoint itself, whose precision marks backtracking still reads)
                    cp.state = None  # type: ignore[assignment]  # out of `lst`: never read again
        # Store a new state only after some work since the last one (Linux: two
        # jumps and eight instructions; twenty jumps or a hundred instructions
        # between two iterations of a loop, whose states differ anyway).
        done, jmps = self.processed - self._last_add[0], self.jmps - self._last_add[1]
        if self.join_hints.get(idx, 0) > 0:
            pass  # a pending sibling path will come here: worth storing
        elif self.joins[idx] and self.pending and jmps >= 2 and not looping:
            pass  # paths meet here and a sibling is pending: it may be cut here
        elif looping:
            if done < LOOP_ADD_INSNS and jmps < LOOP_ADD_JMPS:
                return None
        elif (done < 8 or jmps < 2) and idx not in self.info.subprogs:
            return None
        if anc:
            # An unfinished state here is an ancestor: the program came back to
            # this instruction. Exactly the same state as the latest one stored
            # means no progress: an infinite loop (checked when a state is about
            # to be stored, which a stuck loop reaches within twenty jumps; the
            # budget catches every other non-terminating loop).
            for cp in anc[-LOOP_CHECKS:]:
                if states_same(cp.state, st, live):
                    self.fail(f"infinite loop detected at insn {idx}")
        self._last_add = (self.processed, self.jmps)
        self.total_states += 1
        n = len(lst or ()) + len(anc or ()) + 1
        if n > self.peak_states:
            self.peak_states = n
        if self.total_states > self.max_states:
            self.fail(f"program too complex: more than {self.max_states} states explored")
        cp = Checkpoint(_snapshot(st, live), st.parent)
        cp.idx = idx
        cp.no = len(self.history.checkpoints)
        self.history.checkpoints.append(cp)
        cp.precise = _flagged_keys(cp.state)
        st.parent = cp
        self.unfinished.setdefault(idx, []).append(cp)
        return cp

    # ------------------------------------------------------------ stores, ld_imm64

    def _stx(self, st: VerifierState, insn: Insn) -> None:
        size = insn.size_bytes
        if insn.opcode & op.MODE_MASK == op.MEM:
            value = self.read_reg(st, insn.src)
            check_access(self, st, insn.dst, insn.off, size, "write", value, insn.src)
            return
        # atomic read-modify-write
        value = self.read_reg(st, insn.src)
        if value.is_ptr:
            self.fail(f"R{insn.src} leaks addr into mem")
        if insn.imm == op.CMPXCHG:
            r0 = self.read_reg(st, 0)
            if r0.is_ptr:
                self.fail("R0 leaks addr into mem")
        ptr = self.read_reg(st, insn.dst)
        if ptr.type not in (PTR_TO_STACK, PTR_TO_MAP_VALUE, PTR_TO_MEM):
            self.fail(f"BPF_ATOMIC stores into R{insn.dst} {TYPE_NAMES[ptr.type]} is not allowed")
        check_access(self, st, insn.dst, insn.off, size, "atomic", None, insn.src)
        old = sized_unknown(size)
        if insn.imm == op.CMPXCHG:
            st.cur.regs[0] = old
        elif insn.imm & op.FETCH:
            st.cur.regs[insn.src] = old

    def _ld_imm64(self, st: VerifierState, lo: Insn, hi: Insn) -> None:
        if lo.src == op.BPF_PSEUDO_MAP_FD:
            info = self.maps.get(lo.imm)
            if info is None:
                self.fail(f"map id {lo.imm} does not exist")
            st.cur.regs[lo.dst] = Reg(CONST_MAP, ZERO_S, map=info)
            return
        if lo.src == op.BPF_PSEUDO_MAP_VALUE:
            # Global data (ELF .data/.rodata/.bss): &value[0] + hi.imm of a 1-entry array.
            info = self.maps.get(lo.imm)
            if info is None:
                self.fail(f"map id {lo.imm} does not exist")
            if info.map_type != MapType.ARRAY or info.max_entries != 1:
                self.fail(f"direct value access on map type {info.map_type} not supported")
            off = hi.imm & 0xFFFF_FFFF
            if off >= info.value_size:
                self.fail(
                    f"invalid access to map value pointer, value_size={info.value_size} off={off}"
                )
            st.cur.regs[lo.dst] = Reg(PTR_TO_MAP_VALUE, ZERO_S, off=off, map=info)
            return
        st.cur.regs[lo.dst] = const_reg(ld_imm64_value(lo, hi))

    # ------------------------------------------------------------ jumps, calls, exit

    def _jmp(self, st: VerifierState, insn: Insn, idx: int, pending: list[VerifierState]) -> bool:
        """Advance ``st``; False when the path ended."""
        code = insn.opcode
        jop = code & op.OP_MASK
        if jop == op.JA:
            t = insn.jump_target(idx)
            if t <= idx:
                st.last_back_edge = (idx, t)
            st.idx = t
            return True
        if code == op.EXIT_OP:
            return self._exit(st)
        if code == op.CALL_OP:
            if insn.src == op.BPF_PSEUDO_CALL:
                self._local_call(st, insn, idx)
            else:
                self._helper_call(st, insn)
                st.idx = idx + 1
            return True
        return self._cond_jmp(st, insn, idx, pending)

    def _exit(self, st: VerifierState) -> bool:
        r0 = self.read_reg(st, 0)
        frames = st.frames
        if len(frames) > 1:
            if r0.type == PTR_TO_STACK and r0.frame == len(frames) - 1:
                self.fail("cannot return stack pointer to the caller frame")
            callee = frames.pop()
            regs = frames[-1].regs
            regs[0] = r0
            for r in range(1, 6):
                regs[r] = REG_NOT_INIT
            st.idx = callee.callsite + 1
            return True
        if r0.type != SCALAR:
            self.fail(f"R0 leaks addr as return value (R0 type={TYPE_NAMES[r0.type]})")
        return False

    def _local_call(self, st: VerifierState, insn: Insn, idx: int) -> None:
        target = idx + 1 + insn.imm
        frames = st.frames
        if len(frames) >= op.MAX_CALL_FRAMES:
            self.fail(f"the call stack of {len(frames) + 1} frames is too deep")
        if any(f.subprog == target for f in frames):
            self.fail(f"recursive call from insn {idx} to {target}")
        caller = frames[-1].regs
        regs = [REG_NOT_INIT] * op.NUM_REGS
        for r in range(1, 6):
            regs[r] = caller[r]
        regs[op.FP] = Reg(PTR_TO_STACK, ZERO_S, frame=len(frames))
        frames.append(Frame(regs, {}, idx, target))
        st.idx = target

    def _helper_call(self, st: VerifierState, insn: Insn) -> None:
        proto = HELPER_PROTOS[insn.imm]
        name = f"{proto.name}#{insn.imm}"
        regs = st.cur.regs
        bpf_map: MapInfo | None = None
        map_ptr = False
        args = proto.args
        for i, kind in enumerate(args):
            r = i + 1
            reg = self.read_reg(st, r)
            if kind == Arg.ANYTHING:
                if reg.is_ptr:
                    self.fail(f"R{r} leaks addr into helper function")
            elif kind == Arg.CONST_MAP:
                bpf_map = self._map_arg(r, reg, proto, name)
                map_ptr = reg.type == CONST_MAP
                self.mark_precise(st, r)
            elif kind in (Arg.PTR_TO_MAP_KEY, Arg.PTR_TO_MAP_VALUE):
                assert bpf_map is not None
                size = bpf_map.key_size if kind == Arg.PTR_TO_MAP_KEY else bpf_map.value_size
                check_helper_mem(self, st, r, size, size, "fp, pkt, map_value, mem")
            elif kind == Arg.ANYTHING_OR_PTR:
                pass  # read_reg above already rejected an uninitialised register
            elif kind == Arg.PTR_TO_UNINIT_MEM:
                size_reg = self.read_reg(st, r + 1)
                if size_reg.is_ptr or size_reg.s.mask != 0 or size_reg.s.value == 0:
                    self.fail(f"R{r + 1} must be a known non-zero size for {name}")
                if size_reg.s.value > op.STACK_SIZE:
                    self.fail(f"R{r + 1} size {size_reg.s.value} too large for {name}")
                self.mark_precise(st, r + 1)
                check_helper_mem_write(self, st, r, size_reg.s.value)
            elif kind == Arg.PTR_TO_MEM:
                size_reg = self.read_reg(st, r + 1)
                zero_ok = args[i + 1] == Arg.CONST_SIZE_OR_ZERO
                lo, hi = self._size_arg(r + 1, size_reg, zero_ok)
                self.mark_precise(st, r + 1)
                check_helper_mem(self, st, r, lo, hi, "fp, pkt, map_value, mem")
            elif kind == Arg.PTR_TO_CTX:
                if reg.type != PTR_TO_CTX:
                    self.fail(f"R{r} type={TYPE_NAMES[reg.type]} expected=ctx")
                if reg.off or reg.s != ZERO_S:
                    self.fail(f"dereference of modified ctx ptr R{r} off={reg.off} disallowed")
        if proto.format_arg:
            check_const_format(self, st, name)
        if bpf_map is not None and bpf_map.frozen and proto.helper in _MAP_WRITERS:
            self.fail(f"write into map forbidden: map {map_label(bpf_map)} is frozen ({name})")
        in_range = False
        if (
            map_ptr
            and bpf_map is not None  # set with map_ptr
            and proto.ret == Ret.MAP_VALUE_OR_NULL
            and bpf_map.map_type == MapType.ARRAY
        ):
            # Linux's rule, for Linux's way of naming a map (a map pointer loaded
            # by ld_imm64); a plain map id in a register keeps the NULL check
            in_range = self._const_key_in_range(st, bpf_map)
        for r in range(1, 6):
            regs[r] = REG_NOT_INIT
        if proto.ret == Ret.MAP_VALUE_OR_NULL:
            assert bpf_map is not None
            if in_range:
                # an array lookup with a known in-range key cannot fail (Linux >= 6.13)
                regs[0] = Reg(PTR_TO_MAP_VALUE, ZERO_S, map=bpf_map)
            else:
                regs[0] = Reg(PTR_TO_MAP_VALUE_OR_NULL, ZERO_S, id=self.new_id(), map=bpf_map)
        else:
            ret = _RET_RANGES.get(proto.helper)
            regs[0] = Reg(SCALAR, scalar.UNKNOWN64 if ret is None else ret)

    def _const_key_in_range(self, st: VerifierState, bpf_map: MapInfo) -> bool:
        """R2 points at a stack key whose value is known and < max_entries; the
        key's bytes are then marked precise (the missing NULL depends on them)."""
        ptr = st.cur.regs[2]
        size = bpf_map.key_size
        if ptr.type != PTR_TO_STACK or ptr.s.mask != 0 or size not in (1, 2, 4, 8):
            return False
        o = ptr.off + scalar.to_signed(ptr.s.value)
        frame = st.frames[ptr.frame]
        k, j = divmod(o, 8)
        if j + size > 8:
            return False
        slot = frame.stack.get(k)
        if slot is None:
            return False
        key = None
        if slot.narrow is not None and slot.narrow[:2] == (j, size):
            if slot.narrow[2].is_const:
                key = slot.narrow[2].s.value
        elif slot.spill is not None and j == 0:
            if slot.spill.is_const:
                key = slot.spill.s.value & scalar.umask(size * 8)
        elif all(b == ZERO for b in slot.kinds[j : j + size]):
            key = 0
        if key is None or key >= bpf_map.max_entries:
            return False
        self.mark_slot_precise(st, ptr.frame, o, size)
        return True

    def _map_arg(self, r: int, reg: Reg, proto, name: str) -> MapInfo:
        if reg.type == CONST_MAP:
            info = reg.map
        elif reg.type == SCALAR:
            if reg.s.mask != 0:
                self.fail(f"R{r} is not a known constant map id ({reg!r})")
            info = self.maps.get(reg.s.value)
            if info is None:
                self.fail(f"R{r} map id {scalar.to_signed(reg.s.value)} does not exist")
        else:
            self.fail(f"R{r} type={TYPE_NAMES[reg.type]} expected=map_ptr")
        assert info is not None
        if proto.map_types and info.map_type not in proto.map_types:
            self.fail(f"cannot pass map_type {info.map_type} into func {name}")
        return info

    def _size_arg(self, r: int, reg: Reg, zero_ok: bool) -> tuple[int, int]:
        if reg.is_ptr:
            self.fail(f"R{r} type={TYPE_NAMES[reg.type]} expected=scalar")
        s = reg.s
        if s.smin < 0:
            self.fail(f"R{r} min value is negative, either use unsigned or 'var &= const'")
        if s.umin == 0 and not zero_ok:
            self.fail(f"R{r} invalid zero-sized read")
        if s.umax >= 1 << 29:
            self.fail(f"R{r} unbounded memory access, use 'var &= const' or 'if (var < const)'")
        return s.umin, s.umax

    # ------------------------------------------------------------ conditional jumps

    def _cond_jmp(
        self, st: VerifierState, insn: Insn, idx: int, pending: list[VerifierState]
    ) -> bool:
        code = insn.opcode
        is32 = code & op.CLASS_MASK == op.JMP32
        bits = 32 if is32 else 64
        name = _JOPS[code & op.OP_MASK]
        target = insn.jump_target(idx)
        d = self.read_reg(st, insn.dst)
        if code & op.SRC_MASK:
            s = self.read_reg(st, insn.src)
            src_reg = insn.src
        else:
            s = scalar_reg(scalar.const(insn.imm & scalar.U32 if is32 else insn.imm))
            src_reg = -1
        if d.s.mask == 0 and s.s.mask == 0 and d.type == SCALAR and s.type == SCALAR:
            # both known: the outcome is decided and nothing is refined
            self.mark_precise(st, insn.dst, src_reg)
            if _const_cmp(name, d.s.value, s.s.value, bits):
                if target <= idx:
                    st.last_back_edge = (idx, target)
                st.idx = target
            else:
                st.idx = idx + 1
            return True
        if d.is_ptr or s.is_ptr:
            if is32:
                self.fail(f"R{insn.dst if d.is_ptr else insn.src} pointer comparison prohibited")
            outcome = self._ptr_cond(st, insn, name, d, s, src_reg)
        else:
            a, b = scalar.view(d.s, bits), scalar.view(s.s, bits)
            t = scalar.assume(name, a, b, bits)
            f = scalar.assume(scalar.NEGATE[name], a, b, bits)
            outcome = (
                None if t is None else ScalarRanges(insn.dst, d, t[0], src_reg, s, t[1], bits),
                None if f is None else ScalarRanges(insn.dst, d, f[0], src_reg, s, f[1], bits),
            )
            if t is None or f is None:
                self.mark_precise(st, insn.dst, src_reg)
        taken, fall = outcome
        if taken is not None and fall is not None:
            other = st.copy()
            if st.parent is not None:
                st.parent.branches += 1
            if self._apply(other, taken):
                other.idx = target
                if target <= idx:
                    other.last_back_edge = (idx, target)
                pending.append(other)
                self.join_hints[target] = self.join_hints.get(target, 0) + 1
                if len(pending) > MAX_PENDING:
                    self.fail(f"the sequence of {len(pending)} jumps is too complex")
            else:
                self.mark_precise(st, insn.dst, src_reg)
                self._finish(other)
            if not self._apply(st, fall):
                self.mark_precise(st, insn.dst, src_reg)
                return False
            st.idx = idx + 1
            return True
        if taken is not None:
            if not self._apply(st, taken):
                return False
            if target <= idx:
                st.last_back_edge = (idx, target)
            st.idx = target
            return True
        if fall is not None:
            if not self._apply(st, fall):
                return False
            st.idx = idx + 1
            return True
        return False

    def _apply(self, st: VerifierState, how: Outcome) -> bool:
        """Refine ``st`` with what a branch outcome implies; False if impossible."""
        if isinstance(how, ScalarRanges):
            nd = scalar.merge_view(how.d.s, how.dview, how.bits)
            if nd is None:
                return False
            self._set_scalar(st, how.dreg, how.d, nd)
            if how.sreg >= 0 and how.sreg != how.dreg:
                ns = scalar.merge_view(how.s.s, how.sview, how.bits)
                if ns is None:
                    return False
                self._set_scalar(st, how.sreg, how.s, ns)
            return True
        if isinstance(how, NullCheck):
            self._mark_null(st, how.ptr_id, how.is_null)
            return True
        if isinstance(how, PacketRange):
            return self._pkt_range(st, how.pkt, how.new_range)
        return True  # NOTHING

    def _set_scalar(self, st: VerifierState, regno: int, old: Reg, s: scalar.Scalar) -> None:
        if s == old.s:
            return
        new = old.replace(s=s)
        st.cur.regs[regno] = new
        if old.id:
            for f, where, r in list(st.all_regs()):
                if r.type == SCALAR and r.id == old.id:
                    st.set_reg_anywhere(f, where, r.replace(s=s))

    def _mark_null(self, st: VerifierState, ptr_id: int, is_null: bool) -> None:
        for f, where, r in list(st.all_regs()):
            if r.type == PTR_TO_MAP_VALUE_OR_NULL and r.id == ptr_id:
                if is_null:
                    nr = const_reg(0)
                else:
                    nr = r.replace(type=PTR_TO_MAP_VALUE, id=0)
                st.set_reg_anywhere(f, where, nr)

    def _pkt_range(self, st: VerifierState, pkt: Reg, new_range: int) -> bool:
        if pkt.off < 0 or pkt.s.smin < 0:
            return True
        if pkt.s.mask == 0 and pkt.off + pkt.s.value > self.entry.payload_size:
            return False  # data + n <= data_end cannot hold for n beyond the payload
        if new_range <= 0:
            return True
        for f, where, r in list(st.all_regs()):
            if r.type == PTR_TO_PACKET and r.id == pkt.id and r.rng < new_range:
                st.set_reg_anywhere(f, where, r.replace(rng=new_range))
        return True

    def _ptr_cond(
        self, st: VerifierState, insn: Insn, name: str, d: Reg, s: Reg, src_reg: int
    ) -> tuple[Outcome | None, Outcome | None]:
        none = NOTHING
        # a scalar compared with a pointer decides what the comparison means
        self.mark_precise(st, insn.dst, src_reg)
        # pointer vs. constant zero: a null check
        for p, other in ((d, s), (s, d)):
            if p.is_ptr and other.type == SCALAR and other.s == ZERO_S and name in ("jeq", "jne"):
                if p.type == PTR_TO_MAP_VALUE_OR_NULL:
                    eq, ne = NullCheck(p.id, True), NullCheck(p.id, False)
                    return (eq, ne) if name == "jeq" else (ne, eq)
                # a valid pointer is never NULL
                return (None, none) if name == "jeq" else (none, None)
        if d.type in (PTR_TO_PACKET, PTR_TO_PACKET_END) and s.type in (
            PTR_TO_PACKET,
            PTR_TO_PACKET_END,
        ):
            if d.type == PTR_TO_PACKET and s.type == PTR_TO_PACKET_END:
                pkt = d
                # which branch knows pkt <= end (or pkt < end)?
                good = {"jgt": 1, "jge": 1, "jlt": 0, "jle": 0}.get(name)
            elif d.type == PTR_TO_PACKET_END and s.type == PTR_TO_PACKET:
                pkt = s
                good = {"jgt": 0, "jge": 0, "jlt": 1, "jle": 1}.get(name)
            else:
                good = None
                pkt = d
            if good is None:
                if name in ("jeq", "jne", "jgt", "jge", "jlt", "jle"):
                    return (none, none)
                self.fail(f"R{insn.dst} pointer comparison prohibited")
            learn = PacketRange(pkt, pkt.off)
            return (none, learn) if good == 1 else (learn, none)
        bad = insn.dst if d.is_ptr else insn.src
        self.fail(f"R{bad} pointer comparison prohibited")


_M64, _M32 = scalar.U64, scalar.U32
# the `operator` functions: C calls, cheaper than lambdas on the walk's hot path
_ALU_FN = {
    op.ADD: operator.add,
    op.SUB: operator.sub,
    op.AND: operator.and_,
    op.OR: operator.or_,
    op.XOR: operator.xor,
    op.MUL: operator.mul,
}


def _s64(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


def _s32(v: int) -> int:
    return v - (1 << 32) if v >> 31 else v


_JMP_FN = {  # a result's truth value is the outcome
    op.JEQ: operator.eq,
    op.JNE: operator.ne,
    op.JGT: operator.gt,
    op.JGE: operator.ge,
    op.JLT: operator.lt,
    op.JLE: operator.le,
    op.JSET: operator.and_,
}
_SJMP = {
    op.JSGT: lambda x, y: x > y,
    op.JSGE: lambda x, y: x >= y,
    op.JSLT: lambda x, y: x < y,
    op.JSLE: lambda x, y: x <= y,
}


def _signed_fn(cmp, bits: int):
    conv = _s64 if bits == 64 else _s32
    return lambda a, b: cmp(conv(a), conv(b))


_FAST_ADD, _FAST_JMP, _FAST_ALU = 0, 1, 2  # kinds of `_fast_entry`: add is inlined


def _fast_entry(insn: Insn, idx: int) -> tuple | None:
    """Decoded operands for the known-value fast path of `Verifier._walk`, or None."""
    code = insn.opcode
    cls = code & op.CLASS_MASK
    aop = code & op.OP_MASK
    x = code & op.SRC_MASK
    if cls in (op.ALU, op.ALU64) and aop in _ALU_FN and insn.off == 0:
        mask = _M64 if cls == op.ALU64 else _M32
        src = insn.src if x else -1
        kind = _FAST_ADD if aop == op.ADD else _FAST_ALU
        return (kind, insn.dst, src, insn.imm & mask, _ALU_FN[aop], mask, 0, None)
    if cls in (op.JMP, op.JMP32) and (aop in _JMP_FN or aop in _SJMP):
        if code in (op.CALL_OP, op.EXIT_OP) or aop == op.JA:
            return None
        bits = 64 if cls == op.JMP else 32
        mask = _M64 if bits == 64 else _M32
        fn = _JMP_FN[aop] if aop in _JMP_FN else _signed_fn(_SJMP[aop], bits)
        src = insn.src if x else -1
        target = insn.jump_target(idx)
        return (_FAST_JMP, insn.dst, src, insn.imm & mask, fn, mask, target, (idx, target))
    return None


_MAP_WRITERS = frozenset({Helper.MAP_UPDATE_ELEM, Helper.MAP_DELETE_ELEM, Helper.TIMESERIES_PUSH})
# Helpers whose result has a known range (Linux: get_prandom_u32 is a u32, ...)
_RET_RANGES = {
    Helper.GET_PRANDOM_U32: scalar.urange(0, scalar.U32),
    Helper.GET_SMP_PROCESSOR_ID: scalar.urange(0, scalar.U32),
}


def _join_points(insns: Sequence[Insn], info: ProgInfo) -> bytearray:
    """1 at instructions with two or more predecessors (where paths meet)."""
    n = len(insns)
    preds = bytearray(n)
    for i, insn in enumerate(insns):
        if info.second_slot[i]:
            continue
        code = insn.opcode
        cls = code & op.CLASS_MASK
        nxt = i + 2 if code == op.LD_IMM64 else i + 1
        succ = []
        if cls in (op.JMP, op.JMP32) and code not in (op.CALL_OP, op.EXIT_OP):
            succ.append(insn.jump_target(i))
            if code & op.OP_MASK != op.JA:
                succ.append(nxt)
        elif code != op.EXIT_OP:
            succ.append(nxt)
        for t in succ:
            if 0 <= t < n and preds[t] < 2:
                preds[t] += 1
    return bytearray(1 if p >= 2 else 0 for p in preds)


def _const_cmp(name: str, a: int, b: int, bits: int) -> bool:
    """A conditional jump on two known values (unsigned 64-bit representations)."""
    if bits == 32:
        a, b = a & scalar.U32, b & scalar.U32
    if name == "jeq":
        return a == b
    if name == "jne":
        return a != b
    if name == "jset":
        return bool(a & b)
    if name in ("jgt", "jge", "jlt", "jle"):
        return {"jgt": a > b, "jge": a >= b, "jlt": a < b, "jle": a <= b}[name]
    sa, sb = scalar.to_signed(a, bits), scalar.to_signed(b, bits)
    return {"jsgt": sa > sb, "jsge": sa >= sb, "jslt": sa < sb, "jsle": sa <= sb}[name]


def _snapshot(st: VerifierState, live: list[int]) -> VerifierState:
    """Copy a state for storing (Linux's clean_live_states): dead registers
    dropped, scalar ids that link nothing live dropped, so neither can make a
    later comparison fail."""
    snap = st.copy()
    snap.hist = NONE
    snap.last_back_edge = None
    frames = snap.frames
    last = len(frames) - 1
    counts: dict[int, int] = {}
    for i, f in enumerate(frames):
        regs = f.regs
        for r in _dead_regs(live[snap.idx] if i == last else live[frames[i + 1].callsite + 1]):
            regs[r] = REG_NOT_INIT
        # the same registers, in the same order, as `VerifierState.all_regs`
        for reg in regs:
            if reg.id and reg.type == SCALAR:
                counts[reg.id] = counts.get(reg.id, 0) + 1
        for slot in f.stack.values():
            sp = slot.spill
            if sp is not None and sp.id and sp.type == SCALAR:
                counts[sp.id] = counts.get(sp.id, 0) + 1
    if counts and any(c == 1 for c in counts.values()):
        for f, where, r in list(snap.all_regs()):
            if r.type == SCALAR and r.id and counts[r.id] == 1:
                if isinstance(where, int):
                    f.regs[where] = r.replace(id=0)
                else:
                    f.stack[where[1]] = Slot(SLOT_SPILL, r.replace(id=0))
    return snap


_DEAD: dict[int, tuple[int, ...]] = {}


def _dead_regs(mask: int) -> tuple[int, ...]:
    """R0-R9 not in the liveness ``mask`` (memoised: a program has few masks)."""
    dead = _DEAD.get(mask)
    if dead is None:
        dead = _DEAD[mask] = tuple(r for r in range(op.FP) if not mask >> r & 1)
    return dead


def _flagged_keys(st: VerifierState) -> set[int]:
    """Precision keys of the values already flagged precise in a stored state."""
    keys = set()
    for fi, f in enumerate(st.frames):
        for r, reg in enumerate(f.regs):
            if reg.prec and reg.type == SCALAR:
                keys.add(fi * 16 + r)
    return keys
