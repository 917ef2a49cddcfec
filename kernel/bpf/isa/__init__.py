"""The eBPF instruction set (RFC 9669) as data: opcodes, the 8-byte codec, text.

`opcodes` (constants), `insn` (``Insn`` and ``decode``/``encode``), `asm` (the
assembler), `disasm` (Linux verifier-log style). Depends on nothing but the ABI
numbers in `kernel.abi`, so the verifier, the interpreter and the tools share it.
"""
