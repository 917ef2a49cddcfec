"""Syscall handlers by area (files, memory, process, time, bpf, misc); `table.py`
maps numbers to them and `view.py` says what of the kernel they may use."""
