"""Register maps of the devices the kernel drives, each defined once.

A device's register offsets and bit fields are facts about the hardware that two
sides need: the kernel's driver (`kernel/drivers`, `kernel/arch`) that programs the
registers and the device model (`emulator/devices`) that decodes them. They live
here, on the kernel side, so both can import them (emulator -> kernel is allowed,
the reverse is not). Where the device sits on a board (base, size, IRQ) is not a
register-map fact: that is the board's table (`kernel.board.BoardDescription`).
"""
