"""Exceptions shared by the BPF library, the verifier and the kernel's sys_bpf.

* `BpfError` -- an operation failed with an errno of ABI section 3 (maps, loading);
  sys_bpf turns it into ``-errno``, helpers into a negative R0.
* `BpfRuntimeError` -- the VM stopped a program (bad access, budget, bad opcode).
  The VM never lets any other exception escape a run.
* `VerifierError` -- the verifier rejected a program (sys_bpf: -EACCES + log).
"""

from __future__ import annotations

from kernel.abi import Errno


class BpfError(Exception):
    """A failed BPF operation carrying the errno the ABI returns for it."""

    def __init__(self, errno: Errno, message: str = "") -> None:
        super().__init__(f"{errno.name}: {message}" if message else errno.name)
        self.errno = errno
        self.message = message


class BpfRuntimeError(Exception):
    """The VM aborted a program at instruction ``pc`` (a slot index)."""

    def __init__(self, pc: int, message: str) -> None:
        super().__init__(f"pc {pc}: {message}")
        self.pc = pc
        self.message = message


class VerifierError(Exception):
    """The verifier rejected a program.

    ``insn_idx`` is the offending slot (-1 for whole-program problems), ``reason``
    a one-line message and ``log`` the full verifier log returned to userspace.
    """

    def __init__(self, insn_idx: int, reason: str, log: str = "") -> None:
        super().__init__(f"insn {insn_idx}: {reason}" if insn_idx >= 0 else reason)
        self.insn_idx = insn_idx
        self.reason = reason
        self.log = log or str(self)
        self.insns_processed = 0  # the verifier's work until the rejection
        self.states_explored = 0
