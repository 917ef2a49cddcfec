"""A GDB remote serial protocol server for the machine (QEMU's `-s` / `-S`).

`packets` frames the protocol, `transport` owns the socket, `registers` describes the
register files and target.xml, `stub` serves gdb from the machine's run loop. The
kernel model knows nothing of it: processes are read, never told.
"""
