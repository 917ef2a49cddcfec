"""Reference programs in assembler form, shared by tests, benches and tools.

`TIMER_COUNTER` is the bpf_loader end-to-end demo program (ABI section 11, 27
slots): look up array[0], increment it in place, send the new value to a ringbuf,
print ``Tick!`` with trace_printk, return 0. Format it with the two map ids.
"""

TIMER_COUNTER = """
    mov r1, 0
    stxw [r10-4], r1            ; key = 0
    mov r1, {counter}           ; maps are named by id (ABI section 6)
    mov r2, r10
    add r2, -4
    call map_lookup_elem
    jeq r0, 0, out
    ldxdw r1, [r0+0]            ; (*value)++ in place
    add r1, 1
    stxdw [r0+0], r1
    stxdw [r10-16], r1
    mov r1, {ringbuf}
    mov r2, r10
    add r2, -16
    mov r3, 8
    mov r4, 0
    call ringbuf_output
    mov r1, 0x6b636954          ; "Tick"
    stxw [r10-24], r1
    mov r1, 0x21                ; "!\\0"
    stxh [r10-20], r1
    mov r1, r10
    add r1, -24
    mov r2, 6
    call trace_printk
out:
    mov r0, 0
    exit
"""
