"""Verifier acceptance/rejection suite: assembler programs, one check each.

Every rejected program asserts the instruction index and the reason text the
verifier reports (Linux's wording where Linux has one).
"""

from __future__ import annotations

import pytest

from kernel.abi import AttachType
from kernel.bpf.errors import VerifierError
from kernel.bpf.isa.asm import assemble
from kernel.bpf.verifier import ENTRY_SPECS, EntrySpec, verify
from tests.bpf.verifier_cases import MAPS, lookup, pkt

SYS_ENTER = ENTRY_SPECS[AttachType.SYS_ENTER]
TIMER = ENTRY_SPECS[AttachType.TIMER]
IIO = ENTRY_SPECS[AttachType.IIO]
RAW64 = EntrySpec.raw_memory(64)

RET0 = "\n    mov r0, 0\n    exit\n"

# (id, source, verify() keyword arguments)
ACCEPT: list[tuple[str, str, dict]] = [
    # ---------------------------------------------------------- basics
    ("ret_const", "mov r0, 0\nexit", {}),
    (
        "task_helpers",
        "call get_prandom_u32\ncall get_smp_processor_id\ncall get_current_pid_tgid\n"
        "call get_current_uid_gid\nexit",
        {},
    ),
    (
        "comm_fills_stack_then_read",
        "mov r1, r10\nadd r1, -16\nmov r2, 16\ncall get_current_comm\n"
        "ldxdw r0, [r10-16]\nldxdw r1, [r10-8]\nadd r0, r1\nexit",
        {},
    ),
    (
        "probe_read_from_ctx_pointer",
        "mov r3, r1\nmov r1, r10\nadd r1, -8\nmov r2, 8\ncall probe_read\nldxdw r0, [r10-8]\nexit",
        {},
    ),
    ("ret_imm64", "lddw r0, 0x1122334455667788\nexit", {}),
    (
        "alu_all_ops",
        """
        mov r0, 7
        add r0, 3
        sub r0, 1
        mul r0, 5
        div r0, 2
        mod r0, 7
        or r0, 0x100
        and r0, 0xfff
        xor r0, 3
        lsh r0, 4
        rsh r0, 2
        arsh r0, 1
        neg r0
        exit""",
        {},
    ),
    (
        "alu32_ops",
        """
        mov32 w0, -1
        add32 w0, 1
        mov32 w1, 10
        sdiv32 w1, 3
        smod32 w1, 2
        movsx8_32 w2, w1
        movsx16 r3, r2
        le16 r0
        be32 r1
        bswap64 r3
        add r0, r1
        exit""",
        {},
    ),
    ("div_by_const_zero_allowed", "mov r0, 5\ndiv r0, 0\nmod32 w0, 0\nexit", {}),
    (
        "div_by_reg_unknown",
        "call ktime_get_ns\nmov r1, r0\nmov r0, 100\ndiv r0, r1\nmod r0, r1\nexit",
        {},
    ),
    ("r1_ctx_kept", "mov r6, r1\nmov r0, 0\nexit", {}),
    (
        "read_ctx_fields",
        """
        ldxdw r0, [r1+24]
        ldxdw r2, [r1+32]
        ldxw r3, [r1+40]
        ldxh r4, [r1+48]
        ldxb r5, [r1+52]
        add r0, r2
        exit""",
        {},
    ),
    ("ld_imm64_map_ref", "lddw r1, map:0\nmov r0, 0\nexit", {}),
    ("ja32_jump", "mov r0, 0\nja32 l\nl: exit", {}),
    (
        "jump_over_dead_code_known_branch",
        """
        mov r1, 5
        jeq r1, 5, l
        mov r0, 1
        lddw r3, 0
        ldxdw r0, [r3+0]
        exit
    l:  mov r0, 0
        exit""",
        {},
    ),
    (
        "jmp32_compare",
        """
        call ktime_get_ns
        jgt32 w0, 10, big
        mov r0, 1
        exit
    big:
        mov r0, 2
        exit""",
        {},
    ),
    (
        "all_cond_jumps",
        """
        call ktime_get_ns
        mov r1, r0
        mov r0, 0
        jeq r1, 1, a
    a:  jne r1, 2, b
    b:  jgt r1, 3, c
    c:  jge r1, 4, d
    d:  jlt r1, 5, e
    e:  jle r1, 6, f
    f:  jsgt r1, 7, g
    g:  jsge r1, 8, h
    h:  jslt r1, 9, i
    i:  jsle r1, 10, j
    j:  jset r1, 11, k
    k:  jset32 w1, 3, m
    m:  exit""",
        {},
    ),
    # ---------------------------------------------------------- stack
    (
        "stack_spill_fill_ptr",
        """
        stxdw [r10-8], r1
        ldxdw r2, [r10-8]
        ldxdw r0, [r2+24]
        exit""",
        {},
    ),
    (
        "stack_spill_scalar_keeps_bounds",
        """
        mov r6, r1
        call ktime_get_ns
        and r0, 7
        stxdw [r10-16], r0
        """
        + lookup(2)
        + """
        jeq r0, 0, out
        ldxdw r1, [r10-16]
        add r0, r1
        ldxb r0, [r0+0]
        exit
    out:
        mov r0, 0
        exit""",
        {},
    ),
    (
        "stack_bytes_then_word",
        """
        stb [r10-1], 1
        stb [r10-2], 2
        sth [r10-4], 3
        ldxw r0, [r10-4]
        exit""",
        {},
    ),
    (
        "stack_zero_bytes_known",
        """
        stdw [r10-8], 0
        ldxw r0, [r10-4]
        exit""",
        {},
    ),
    ("stack_full_512", "stdw [r10-512], 1\nldxdw r0, [r10-512]\nexit", {}),
    (
        "stack_partial_fill_of_scalar_spill",
        """
        mov r1, 0x1234
        stxdw [r10-8], r1
        ldxw r0, [r10-8]
        ldxb r2, [r10-7]
        exit""",
        {},
    ),
    (
        "stack_variable_offset_read_initialised",
        """
        stdw [r10-8], 1
        stdw [r10-16], 2
        call ktime_get_ns
        and r0, 8
        mov r1, r10
        add r1, -16
        add r1, r0
        ldxdw r0, [r1+0]
        exit""",
        {},
    ),
    (
        "stack_variable_offset_write",
        """
        call ktime_get_ns
        and r0, 7
        mov r1, r10
        add r1, -16
        add r1, r0
        stb [r1+0], 1
        mov r0, 0
        exit""",
        {},
    ),
    # ---------------------------------------------------------- maps
    (
        "map_lookup_null_checked",
        lookup(0)
        + """
        jeq r0, 0, out
        ldxdw r0, [r0+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_lookup_jne_form",
        lookup(0)
        + """
        jne r0, 0, ok
        exit
    ok: ldxdw r0, [r0+0]
        exit""",
        {},
    ),
    (
        "map_lookup_copy_null_checked",
        lookup(0)
        + """
        mov r6, r0
        jeq r0, 0, out
        ldxdw r0, [r6+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_lookup_spilled_then_checked",
        lookup(0)
        + """
        stxdw [r10-16], r0
        jeq r0, 0, out
        ldxdw r1, [r10-16]
        ldxdw r0, [r1+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_value_increment",
        lookup(3)
        + """
        jeq r0, 0, out
        ldxdw r1, [r0+0]
        add r1, 1
        stxdw [r0+0], r1
    out:"""
        + RET0,
        {},
    ),
    (
        "map_value_last_byte",
        lookup(0)
        + """
        jeq r0, 0, out
        stb [r0+7], 1
    out:"""
        + RET0,
        {},
    ),
    (
        "map_value_var_index_masked",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r6, r0
        call ktime_get_ns
        and r0, 127
        add r6, r0
        ldxb r0, [r6+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_value_var_index_compared",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r6, r0
        call ktime_get_ns
        jge r0, 121, out
        add r6, r0
        ldxdw r0, [r6+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_value_index_via_copy_link",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r6, r0
        call ktime_get_ns
        mov r1, r0
        jgt r1, 100, out
        add r6, r0
        ldxb r0, [r6+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_update_from_stack",
        """
        stw [r10-4], 1
        stdw [r10-16], 42
        mov r1, 3
        mov r2, r10
        add r2, -4
        mov r3, r10
        add r3, -16
        mov r4, 0
        call map_update_elem
        exit""",
        {},
    ),
    (
        "map_delete",
        """
        stw [r10-4], 1
        mov r1, 3
        mov r2, r10
        add r2, -4
        call map_delete_elem
        exit""",
        {},
    ),
    (
        "map_key_from_map_value",
        lookup(0)
        + """
        jeq r0, 0, out
        mov r2, r0
        mov r1, 0
        call map_lookup_elem
    out:"""
        + RET0,
        {},
    ),
    (
        "map_by_ld_imm64",
        """
        stw [r10-4], 0
        lddw r1, map:0
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        jeq r0, 0, out
        ldxdw r0, [r0+0]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "map_id_from_spilled_constant",
        """
        mov r1, 3
        stxdw [r10-16], r1
        stw [r10-4], 0
        ldxdw r1, [r10-16]
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        mov r0, 0
        exit""",
        {},
    ),
    (
        "ringbuf_output_stack",
        """
        call ktime_get_ns
        stxdw [r10-8], r0
        mov r1, 1
        mov r2, r10
        add r2, -8
        mov r3, 8
        mov r4, 0
        call ringbuf_output
        exit""",
        {},
    ),
    (
        "ringbuf_output_map_value",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r2, r0
        mov r1, 1
        mov r3, 128
        mov r4, 0
        call ringbuf_output
    out:"""
        + RET0,
        {},
    ),
    (
        "ringbuf_output_variable_size",
        """
        stdw [r10-8], 1
        stdw [r10-16], 2
        call ktime_get_ns
        mov r3, r0
        and r3, 15
        mov r1, 1
        mov r2, r10
        add r2, -16
        mov r4, 0
        call ringbuf_output
        exit""",
        {},
    ),
    (
        "ringbuf_output_zero_size",
        """
        mov r1, 1
        mov r2, r10
        add r2, -8
        mov r3, 0
        mov r4, 0
        call ringbuf_output
        exit""",
        {},
    ),
    (
        "trace_printk_string",
        """
        stdw [r10-8], 0x216b6369
        mov r1, r10
        add r1, -8
        mov r2, 8
        call trace_printk
        exit""",
        {},
    ),
    (
        "timeseries_push",
        """
        call ktime_get_ns
        stxdw [r10-8], r0
        stdw [r10-16], 5
        mov r1, 4
        mov r2, r10
        add r2, -8
        mov r3, r10
        add r3, -16
        call timeseries_push
        exit""",
        {},
    ),
    (
        "ctx_helpers",
        """
        mov r6, r1
        call get_boot_time_ms
        mov r1, r6
        call get_kernel_heap_kb
        mov r1, r6
        call get_interrupt_latency_ns
        mov r1, r6
        call get_kernel_image_mb
        exit""",
        {},
    ),
    (
        # 13 and 15-17 take no argument (the original passes the running program's
        # own context): R1 may hold anything, even a frame pointer or nothing valid.
        "ctx_helpers_ignore_r1",
        """
        mov r1, r10
        call get_boot_time_ms
        call get_kernel_heap_kb
        mov r1, 12345
        call get_interrupt_latency_ns
        call get_kernel_image_mb
        exit""",
        {},
    ),
    (
        "ctx_helpers_on_raw_memory",
        "call get_boot_time_ms\nexit",
        {"hook": RAW64},
    ),
    (
        "device_helpers",
        """
        mov r1, 18
        mov r2, 1
        call gpio_write
        mov r1, 17
        call gpio_read
        mov r1, 0
        mov r2, 1
        mov r3, 50
        call pwm_write
        mov r1, 7
        call motor_emergency_stop
        exit""",
        {},
    ),
    (
        "callee_saved_survive_helper",
        """
        mov r6, 1
        mov r7, r1
        call ktime_get_ns
        add r0, r6
        ldxdw r1, [r7+24]
        exit""",
        {},
    ),
    # ---------------------------------------------------------- atomics
    (
        "atomic_add_map_value",
        lookup(0)
        + """
        jeq r0, 0, out
        mov r1, 1
        atomic_add64 [r0+0], r1
        atomic_fetch_add64 [r0+0], r1
        mov r0, r1
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "atomic_ops_stack",
        """
        stdw [r10-8], 0
        mov r1, 3
        atomic_or64 [r10-8], r1
        atomic_and32 [r10-8], r1
        atomic_fetch_xor32 [r10-4], r1
        xchg64 [r10-8], r1
        mov r0, 0
        cmpxchg64 [r10-8], r1
        exit""",
        {},
    ),
    (
        "atomic_cmpxchg32_map",
        lookup(0)
        + """
        jeq r0, 0, out
        mov r1, r0
        mov r0, 0
        mov r2, 5
        cmpxchg32 [r1+4], r2
        exit
    out:"""
        + RET0,
        {},
    ),
    # ---------------------------------------------------------- packet
    (
        "pkt_read_after_check",
        pkt(16)
        + """
        ldxdw r0, [r2+8]
        exit
    out:"""
        + RET0,
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_check_jge_form",
        """
        ldxdw r2, [r1+0]
        ldxdw r3, [r1+8]
        mov r4, r2
        add r4, 8
        jge r3, r4, ok
        mov r0, 0
        exit
    ok: ldxdw r0, [r2+0]
        exit""",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_check_jlt_form",
        """
        ldxdw r2, [r1+0]
        ldxdw r3, [r1+8]
        mov r4, r2
        add r4, 24
        jlt r3, r4, out
        ldxw r0, [r2+16]
        exit
    out:"""
        + RET0,
        {"hook": IIO},
    ),
    (
        "pkt_check_jle_form",
        """
        ldxdw r2, [r1+0]
        ldxdw r3, [r1+8]
        mov r4, r2
        add r4, 8
        jle r4, r3, ok
        mov r0, 0
        exit
    ok: ldxdw r0, [r2+0]
        exit""",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_range_shared_by_copies",
        pkt(16)
        + """
        mov r5, r2
        ldxdw r0, [r5+8]
        exit
    out:"""
        + RET0,
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_var_offset_rechecked",
        pkt(56)
        + """
        ldxdw r5, [r2+0]
        and r5, 3
        lsh r5, 3
        add r2, r5
        ldxdw r0, [r2+8]
        exit
    out:"""
        + RET0,
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_len_by_subtraction",
        """
        ldxdw r2, [r1+0]
        ldxdw r3, [r1+8]
        sub r3, r2
        mov r0, r3
        exit""",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_ringbuf_from_payload",
        pkt(16)
        + """
        mov r1, 1
        mov r3, 16
        mov r4, 0
        call ringbuf_output
        exit
    out:"""
        + RET0,
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_generic_hook_large_check",
        pkt(1000)
        + """
        ldxb r0, [r2+999]
        exit
    out:"""
        + RET0,
        {},
    ),
    (
        "pkt_check_beyond_payload_is_dead",
        pkt(64)
        + """
        ldxdw r0, [r2+56]
        exit
    out:"""
        + RET0,
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_timer_dead_branch",
        pkt(8)
        + """
        ldxdw r0, [r2+0]
        exit
    out:"""
        + RET0,
        {"hook": TIMER},
    ),
    # ---------------------------------------------------------- loops
    (
        "loop_const_bound",
        """
        mov r1, 0
        mov r0, 0
    l:  add r0, r1
        add r1, 1
        jlt r1, 16, l
        exit""",
        {},
    ),
    (
        "loop_countdown_jne",
        """
        mov r1, 10
        mov r0, 0
    l:  add r0, 2
        sub r1, 1
        jne r1, 0, l
        exit""",
        {},
    ),
    (
        "loop_unknown_bounded_by_mask",
        """
        call ktime_get_ns
        and r0, 15
        mov r1, 0
    l:  jge r1, r0, done
        add r1, 1
        ja l
    done:
        mov r0, r1
        exit""",
        {},
    ),
    (
        "loop_shift_terminates",
        """
        call ktime_get_ns
        mov r1, r0
        mov r0, 0
    l:  jeq r1, 0, done
        rsh r1, 1
        add r0, 1
        ja l
    done:
        exit""",
        {},
    ),
    (
        "loop_with_map_lookups",
        """
        mov r6, 0
        mov r7, 0
    l:  stxw [r10-4], r6
        mov r1, 0
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        jeq r0, 0, next
        ldxdw r1, [r0+0]
        add r7, r1
    next:
        add r6, 1
        jlt r6, 8, l
        mov r0, r7
        exit""",
        {},
    ),
    (
        "loop_fill_map_value",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r1, 0
    l:  mov r2, r0
        add r2, r1
        stb [r2+0], 7
        add r1, 1
        jlt r1, 128, l
    out:"""
        + RET0,
        {},
    ),
    (
        "nested_loops",
        """
        mov r0, 0
        mov r1, 0
    outer:
        mov r2, 0
    inner:
        add r0, 1
        add r2, 1
        jlt r2, 4, inner
        add r1, 1
        jlt r1, 4, outer
        exit""",
        {},
    ),
    # ---------------------------------------------------------- bpf-to-bpf calls
    (
        "local_call_simple",
        """
        mov r1, 5
        call f
        exit
    f:  mov r0, r1
        add r0, 1
        exit""",
        {},
    ),
    (
        "local_call_preserves_r6_r9",
        """
        mov r6, 7
        mov r9, r1
        call f
        add r0, r6
        ldxdw r1, [r9+24]
        exit
    f:  mov r6, 100
        mov r0, 0
        exit""",
        {},
    ),
    (
        "local_call_stack_pointer_arg",
        """
        stdw [r10-8], 11
        mov r1, r10
        add r1, -8
        call f
        exit
    f:  ldxdw r0, [r1+0]
        stdw [r10-8], 1
        stdw [r1+0], 12
        exit""",
        {},
    ),
    (
        "local_call_map_value_return",
        """
        call get
        jeq r0, 0, out
        ldxdw r0, [r0+0]
        exit
    out:
        mov r0, 0
        exit
    get:"""
        + lookup(0)
        + "exit",
        {},
    ),
    (
        "local_call_ctx_arg",
        """
        call f
        exit
    f:  ldxdw r0, [r1+32]
        exit""",
        {},
    ),
    (
        "call_depth_8",
        "\n".join(
            [f"call f{1}\nexit"]
            + [f"f{i}: call f{i + 1}\nexit" for i in range(1, 7)]
            + ["f7: mov r0, 0\nexit"]
        ),
        {},
    ),
    (
        "local_call_twice_pruned",
        """
        mov r1, 1
        call f
        mov r1, 2
        call f
        exit
    f:  mov r0, r1
        exit""",
        {},
    ),
    # ---------------------------------------------------------- raw memory (conformance)
    (
        "raw_mem_read_write",
        """
        ldxdw r0, [r1+56]
        stdw [r1+0], 5
        add r0, r2
        exit""",
        {"hook": RAW64},
    ),
    (
        "raw_mem_atomic",
        """
        mov r2, 1
        atomic_add32 [r1+60], r2
        mov r0, 0
        exit""",
        {"hook": RAW64},
    ),
]


# (id, source, expected insn index, expected reason substring, verify() kwargs)
REJECT: list[tuple[str, str, int, str, dict]] = [
    # ---------------------------------------------------------- static checks
    ("empty_program", "", -1, "program has no instructions", {}),
    ("no_exit_at_end", "mov r0, 0", 0, "last insn is not an exit or jmp", {}),
    ("fall_off_after_cond", "mov r0, 0\njeq r0, 0, +0", 1, "last insn is not an exit or jmp", {}),
    ("jump_out_of_range", "mov r0, 0\nja +5\nexit", 1, "jump out of range from insn 1 to 7", {}),
    ("jump_backwards_out", "ja -2\nexit", 0, "jump out of range from insn 0 to -1", {}),
    (
        "jump_into_ld_imm64",
        "ja +1\nlddw r0, 1\nexit",
        0,
        "jump into the middle of ldimm64 insn 1",
        {},
    ),
    ("unreachable_insn", "mov r0, 0\nexit\nmov r0, 1\nexit", 2, "unreachable insn 2", {}),
    ("unknown_opcode", ".insn 0xff, 0, 0, 0, 0\nexit", 0, "unknown opcode ff", {}),
    ("opcode_zero", ".insn 0, 0, 0, 0, 0\nexit", 0, "unknown opcode 00", {}),
    ("invalid_register", ".insn 0xb7, 11, 0, 0, 0\nexit", 0, "R11 is invalid", {}),
    ("write_r10", "mov r10, 0\nexit", 0, "frame pointer is read only", {}),
    ("ldx_into_r10", "ldxdw r10, [r1+0]\nexit", 0, "frame pointer is read only", {}),
    ("alu_reserved_off", ".insn 0x07, 0, 0, 1, 0\nexit", 0, "BPF_ALU uses reserved fields", {}),
    ("alu_k_with_src", ".insn 0x07, 0, 1, 0, 0\nexit", 0, "BPF_ALU uses reserved fields", {}),
    ("mov_reserved_imm", ".insn 0xbf, 0, 1, 0, 1\nexit", 0, "BPF_MOV uses reserved fields", {}),
    ("movsx32_bad_off", ".insn 0xbc, 0, 1, 32, 0\nexit", 0, "BPF_MOV uses reserved fields", {}),
    ("neg_with_imm", ".insn 0x87, 0, 0, 0, 1\nexit", 0, "BPF_NEG uses reserved fields", {}),
    ("end_bad_width", ".insn 0xd4, 0, 0, 0, 8\nexit", 0, "BPF_END uses reserved fields", {}),
    ("shift_too_big", "mov r0, 1\nlsh r0, 64\nexit", 1, "invalid shift 64", {}),
    ("shift32_too_big", "mov r0, 1\nrsh32 w0, 32\nexit", 1, "invalid shift 32", {}),
    ("exit_reserved", ".insn 0x95, 0, 0, 0, 1", 0, "BPF_EXIT uses reserved fields", {}),
    ("ja_reserved_imm", ".insn 0x05, 0, 0, 0, 1\nexit", 0, "BPF_JA uses reserved fields", {}),
    (
        "jmp_k_with_src",
        "mov r0, 0\n.insn 0x15, 0, 1, 0, 0\nexit",
        1,
        "BPF_JMP/JMP32 uses reserved fields",
        {},
    ),
    ("ldx_reserved_imm", ".insn 0x79, 0, 1, 0, 1\nexit", 0, "BPF_LDX uses reserved fields", {}),
    ("st_reserved_src", ".insn 0x7a, 10, 1, -8, 0\nexit", 0, "BPF_ST uses reserved fields", {}),
    ("legacy_ld_abs", "ldabsw 12\nexit", 0, "BPF_LD_[ABS|IND] instructions are not supported", {}),
    (
        "ld_imm64_truncated",
        "mov r0, 0\nexit\n.insn 0x18, 0, 0, 0, 0",
        2,
        "invalid BPF_LD_IMM insn",
        {},
    ),
    (
        "ld_imm64_bad_second_slot",
        ".insn 0x18, 0, 0, 0, 0\n.insn 0x07, 0, 0, 0, 0\nexit",
        0,
        "invalid BPF_LD_IMM insn",
        {},
    ),
    (
        "ld_imm64_bad_pseudo",
        ".insn 0x18, 0, 3, 0, 0\n.insn 0, 0, 0, 0, 0\nexit",
        0,
        "unsupported ld_imm64 pseudo src 3",
        {},
    ),
    ("atomic_bad_size", ".insn 0xd3, 10, 1, -8, 0\nexit", 0, "invalid atomic operand size", {}),
    (
        "atomic_bad_op",
        ".insn 0xdb, 10, 1, -8, 0x10\nexit",
        0,
        "BPF_ATOMIC uses invalid atomic opcode 10",
        {},
    ),
    ("unknown_helper", "call 99\nexit", 0, "invalid func unknown#99", {}),
    (
        "comm_zero_size",
        "mov r1, r10\nadd r1, -16\nmov r2, 0\ncall get_current_comm\nexit",
        3,
        "R2 must be a known non-zero size for get_current_comm#12",
        {},
    ),
    (
        "comm_buffer_past_stack_top",
        "mov r1, r10\nadd r1, -8\nmov r2, 16\ncall get_current_comm\nexit",
        3,
        "invalid indirect access to stack R1 off=-8 size=16",
        {},
    ),
    (
        "comm_buffer_is_ctx",
        "mov r2, 16\ncall get_current_comm\nexit",
        1,
        "R1 type=ctx expected=fp, map_value, mem",
        {},
    ),
    (
        "probe_read_uninit_src",
        "mov r1, r10\nadd r1, -8\nmov r2, 8\ncall probe_read\nexit",
        3,
        "R3 !read_ok",
        {},
    ),
    (
        "kfunc_call",
        ".insn 0x85, 0, 2, 0, 1\nexit",
        0,
        "kernel function calls are not supported",
        {},
    ),
    ("call_bad_target", ".insn 0x85, 0, 1, 0, 10\nexit", 0, "invalid call destination 11", {}),
    (
        "jump_across_subprogs",
        """
        call f
        ja +2
        exit
    f:  mov r0, 0
        exit""",
        1,
        "jump out of range from insn 1 to 4",
        {},
    ),
    # ---------------------------------------------------------- registers
    ("read_uninit_reg", "mov r0, r2\nexit", 0, "R2 !read_ok", {}),
    ("exit_without_r0", "exit", 0, "R0 !read_ok", {}),
    ("r1_clobbered_by_call", "call ktime_get_ns\nldxdw r0, [r1+0]\nexit", 1, "R1 !read_ok", {}),
    (
        "r5_clobbered_by_call",
        "mov r5, 1\ncall ktime_get_ns\nmov r0, r5\nexit",
        2,
        "R5 !read_ok",
        {},
    ),
    ("callee_args_uninit", "call f\nexit\nf: mov r0, r3\nexit", 2, "R3 !read_ok", {}),
    ("callee_r0_not_set", "call f\nexit\nf: exit", 2, "R0 !read_ok", {}),
    (
        "callee_saved_not_visible",
        "mov r6, 1\ncall f\nexit\nf: mov r0, r6\nexit",
        3,
        "R6 !read_ok",
        {},
    ),
    ("cond_on_uninit", "jeq r3, 0, +0\nmov r0, 0\nexit", 0, "R3 !read_ok", {}),
    # ---------------------------------------------------------- pointer rules
    ("return_ctx_pointer", "mov r0, r1\nexit", 1, "R0 leaks addr as return value", {}),
    ("return_stack_pointer", "mov r0, r10\nexit", 1, "R0 leaks addr as return value", {}),
    ("return_map_value_or_null", lookup(0) + "exit", 5, "R0 leaks addr as return value", {}),
    (
        "ptr_mul",
        "mov r0, r10\nmul r0, 2\nexit",
        1,
        "R0 pointer arithmetic with mul operator prohibited",
        {},
    ),
    (
        "ptr_and",
        "mov r0, r1\nand r0, 7\nexit",
        1,
        "R0 bitwise operator &= on pointer prohibited",
        {},
    ),
    (
        "ptr_alu32",
        "mov r0, r10\nadd32 w0, 1\nexit",
        1,
        "R0 32-bit pointer arithmetic prohibited",
        {},
    ),
    ("ptr_mov32", "mov32 w0, w10\nexit", 0, "R10 partial copy of pointer", {}),
    ("ptr_neg", "mov r0, r1\nneg r0\nexit", 1, "R0 pointer arithmetic prohibited", {}),
    ("ptr_plus_ptr", "mov r0, r10\nadd r0, r1\nexit", 1, "R0 pointer add pointer prohibited", {}),
    (
        "scalar_minus_ptr",
        "mov r0, 5\nsub r0, r1\nexit",
        1,
        "R0 tried to sub pointer from scalar",
        {},
    ),
    (
        "ptr_minus_other_region",
        "mov r0, r10\nsub r0, r1\nexit",
        1,
        "R0 pointer sub pointer prohibited",
        {},
    ),
    ("ptr_sext", "movsx8 r0, r1\nexit", 0, "R1 sign-extension of pointer prohibited", {}),
    (
        "arith_on_map_or_null",
        lookup(0) + "add r0, 8\nexit",
        5,
        "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first",
        {},
    ),
    (
        "arith_on_pkt_end",
        "ldxdw r0, [r1+8]\nadd r0, 1\nmov r0, 0\nexit",
        1,
        "R0 pointer arithmetic on pkt_end prohibited",
        {},
    ),
    (
        "arith_unbounded_scalar",
        "call ktime_get_ns\nmov r1, r10\nadd r1, r0\nmov r0, 0\nexit",
        2,
        "R1 math between fp pointer and register with unbounded min value is not allowed",
        {},
    ),
    (
        "ptr_compare_scalar",
        "mov r0, 0\njgt r1, 5, +0\nexit",
        1,
        "R1 pointer comparison prohibited",
        {},
    ),
    (
        "ptr_compare_ptrs",
        "mov r0, 0\njeq r1, r10, +0\nexit",
        1,
        "R1 pointer comparison prohibited",
        {},
    ),
    ("ptr_jmp32", "mov r0, 0\njeq32 w1, 0, +0\nexit", 1, "R1 pointer comparison prohibited", {}),
    (
        "null_check_nonzero",
        lookup(0) + "jeq r0, 1, +0\nmov r0, 0\nexit",
        5,
        "R0 pointer comparison prohibited",
        {},
    ),
    (
        "ptr_to_helper_anything",
        "mov r1, r10\nmov r2, 1\ncall gpio_write\nexit",
        2,
        "R1 leaks addr into helper function",
        {},
    ),
    (
        "ptr_into_map_value",
        lookup(0)
        + """
        jeq r0, 0, out
        stxdw [r0+0], r10
    out:"""
        + RET0,
        6,
        "R10 leaks addr into map",
        {},
    ),
    (
        "ptr_into_raw_mem",
        "stxdw [r1+0], r1\nmov r0, 0\nexit",
        0,
        "R1 leaks addr into mem",
        {"hook": RAW64},
    ),
    (
        "atomic_ptr_operand",
        "stdw [r10-8], 0\natomic_add64 [r10-8], r10\nmov r0, 0\nexit",
        1,
        "R10 leaks addr into mem",
        {},
    ),
    # ---------------------------------------------------------- context
    (
        "ctx_write",
        "stdw [r1+24], 0\nmov r0, 0\nexit",
        0,
        "invalid bpf_context access off=24 size=8",
        {},
    ),
    (
        "ctx_out_of_bounds",
        "ldxdw r0, [r1+56]\nexit",
        0,
        "invalid bpf_context access off=56 size=8",
        {},
    ),
    ("ctx_negative", "ldxdw r0, [r1-8]\nexit", 0, "invalid bpf_context access off=-8 size=8", {}),
    ("ctx_misaligned", "ldxw r0, [r1+26]\nexit", 0, "invalid bpf_context access off=26 size=4", {}),
    ("ctx_data_narrow", "ldxw r0, [r1+0]\nexit", 0, "invalid bpf_context access off=0 size=4", {}),
    (
        "ctx_var_offset_add",
        """
        mov r6, r1
        call ktime_get_ns
        and r0, 8
        add r6, r0
        mov r0, 0
        exit""",
        3,
        "R6 variable offset on ctx pointer prohibited",
        {},
    ),
    # ---------------------------------------------------------- stack
    (
        "stack_read_uninit",
        "ldxdw r0, [r10-8]\nexit",
        0,
        "invalid read from stack off -8+0 size 8",
        {},
    ),
    (
        "stack_read_partly_uninit",
        "stw [r10-8], 1\nldxdw r0, [r10-8]\nexit",
        1,
        "invalid read from stack off -8+4 size 8",
        {},
    ),
    (
        "stack_overflow",
        "stdw [r10-520], 1\nmov r0, 0\nexit",
        0,
        "invalid write to stack R10 off=-520 size=8",
        {},
    ),
    (
        "stack_above_fp",
        "stdw [r10+0], 1\nmov r0, 0\nexit",
        0,
        "invalid write to stack R10 off=0 size=8",
        {},
    ),
    (
        "stack_straddle_fp",
        "stw [r10-2], 1\nmov r0, 0\nexit",
        0,
        "invalid write to stack R10 off=-2 size=4",
        {},
    ),
    (
        "stack_partial_ptr_fill",
        "stxdw [r10-8], r1\nldxw r0, [r10-8]\nexit",
        1,
        "invalid size of register fill",
        {},
    ),
    (
        "stack_partial_ptr_spill",
        "stxw [r10-8], r1\nmov r0, 0\nexit",
        0,
        "invalid size of register spill",
        {},
    ),
    (
        "stack_misaligned_ptr_spill",
        "stxdw [r10-12], r1\nmov r0, 0\nexit",
        0,
        "misaligned stack spill of a pointer off -12",
        {},
    ),
    (
        "stack_var_read_uninit",
        """
        stdw [r10-8], 1
        call ktime_get_ns
        and r0, 8
        mov r1, r10
        add r1, -16
        add r1, r0
        ldxdw r0, [r1+0]
        exit""",
        6,
        "invalid read from stack off -16+0 size 16",
        {},
    ),
    (
        "stack_var_out_of_bounds",
        """
        call ktime_get_ns
        and r0, 1023
        mov r1, r10
        add r1, -512
        add r1, r0
        stb [r1+0], 1
        mov r0, 0
        exit""",
        5,
        "invalid variable-offset write to stack R1",
        {},
    ),
    (
        "stack_ptr_overwritten_partially",
        """
        stxdw [r10-8], r1
        stb [r10-8], 0
        ldxdw r1, [r10-8]
        ldxdw r0, [r1+0]
        exit""",
        1,
        "attempt to corrupt spilled pointer on stack",
        {},
    ),
    (
        "deref_scalar",
        "mov r1, 4096\nldxdw r0, [r1+0]\nexit",
        1,
        "R1 invalid mem access 'scalar'",
        {},
    ),
    (
        "deref_pkt_end",
        "ldxdw r2, [r1+8]\nldxb r0, [r2+0]\nexit",
        1,
        "R2 invalid mem access 'pkt_end'",
        {},
    ),
    (
        "deref_map_ptr",
        "lddw r1, map:0\nldxdw r0, [r1+0]\nexit",
        2,
        "R1 invalid mem access 'map_ptr'",
        {},
    ),
    # ---------------------------------------------------------- maps
    (
        "map_value_or_null_deref",
        lookup(0) + "ldxdw r0, [r0+0]\nexit",
        5,
        "R0 invalid mem access 'map_value_or_null'",
        {},
    ),
    (
        "map_null_branch_deref",
        lookup(0)
        + """
        jne r0, 0, out
        ldxdw r0, [r0+0]
    out:
        exit""",
        6,
        "R0 invalid mem access 'scalar'",
        {},
    ),
    (
        "map_value_past_end",
        lookup(0)
        + """
        jeq r0, 0, out
        ldxdw r0, [r0+4]
        exit
    out:"""
        + RET0,
        6,
        "invalid access to map value, value_size=8 off=4 size=8",
        {},
    ),
    (
        "map_value_negative",
        lookup(0)
        + """
        jeq r0, 0, out
        ldxb r0, [r0-1]
        exit
    out:"""
        + RET0,
        6,
        "invalid access to map value, value_size=8 off=-1 size=1",
        {},
    ),
    (
        "map_value_var_unchecked_max",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r6, r0
        call ktime_get_ns
        and r0, 255
        add r6, r0
        ldxb r0, [r6+0]
        exit
    out:"""
        + RET0,
        10,
        "invalid access to map value, value_size=128 off=[0,255] size=1",
        {},
    ),
    (
        "map_value_var_signed_negative",
        lookup(2)
        + """
        jeq r0, 0, out
        mov r6, r0
        call ktime_get_ns
        jsgt r0, 100, out
        jslt r0, -4, out
        add r6, r0
        ldxb r0, [r6+0]
        exit
    out:"""
        + RET0,
        11,
        "R6 min value is negative",
        {},
    ),
    (
        "map_unknown_id",
        "stw [r10-4], 0\nmov r1, 9\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\nexit",
        4,
        "R1 map id 9 does not exist",
        {},
    ),
    (
        "map_ld_imm64_unknown_id",
        "lddw r1, map:9\nmov r0, 0\nexit",
        0,
        "map id 9 does not exist",
        {},
    ),
    (
        "map_id_not_constant",
        """
        call ktime_get_ns
        mov r1, r0
        stw [r10-4], 0
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        mov r0, 0
        exit""",
        5,
        "R1 is not a known constant map id",
        {},
    ),
    (
        "map_arg_wrong_type",
        """
        stw [r10-4], 0
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        exit""",
        3,
        "R1 type=ctx expected=map_ptr",
        {},
    ),
    (
        "map_key_uninit",
        "mov r1, 0\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\nmov r0, 0\nexit",
        3,
        "invalid indirect read from stack off -4+0 size 4",
        {},
    ),
    (
        "map_key_too_small",
        """
        stw [r10-4], 0
        mov r1, 5
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        mov r0, 0
        exit""",
        4,
        "invalid indirect access to stack R2 off=-4 size=8",
        {},
    ),
    (
        "map_key_scalar",
        "mov r1, 0\nmov r2, 0\ncall map_lookup_elem\nmov r0, 0\nexit",
        2,
        "R2 type=scalar expected=fp, pkt, map_value, mem",
        {},
    ),
    (
        "map_value_arg_too_small",
        """
        stw [r10-4], 0
        stw [r10-16], 0
        mov r1, 3
        mov r2, r10
        add r2, -4
        mov r3, r10
        add r3, -16
        mov r4, 0
        call map_update_elem
        exit""",
        8,
        "invalid indirect read from stack off -16+4 size 8",
        {},
    ),
    (
        "lookup_on_ringbuf",
        lookup(1) + "mov r0, 0\nexit",
        4,
        "cannot pass map_type 27 into func map_lookup_elem#5",
        {},
    ),
    (
        "ringbuf_output_on_array",
        """
        stdw [r10-8], 0
        mov r1, 0
        mov r2, r10
        add r2, -8
        mov r3, 8
        mov r4, 0
        call ringbuf_output
        exit""",
        6,
        "cannot pass map_type 2 into func ringbuf_output#8",
        {},
    ),
    (
        "ringbuf_size_unbounded",
        """
        stdw [r10-8], 0
        call ktime_get_ns
        mov r3, r0
        mov r1, 1
        mov r2, r10
        add r2, -8
        mov r4, 0
        call ringbuf_output
        exit""",
        7,
        "R3 min value is negative",
        {},
    ),
    (
        "ringbuf_size_huge",
        """
        stdw [r10-8], 0
        call ktime_get_ns
        mov r3, r0
        rsh r3, 1
        mov r1, 1
        mov r2, r10
        add r2, -8
        mov r4, 0
        call ringbuf_output
        exit""",
        8,
        "R3 unbounded memory access",
        {},
    ),
    (
        "ringbuf_size_too_big",
        """
        stdw [r10-8], 0
        mov r1, 1
        mov r2, r10
        add r2, -8
        mov r3, 16
        mov r4, 0
        call ringbuf_output
        exit""",
        6,
        "invalid indirect access to stack R2 off=-8 size=16",
        {},
    ),
    (
        "trace_printk_zero_size",
        "mov r1, r10\nadd r1, -8\nmov r2, 0\ncall trace_printk\nexit",
        3,
        "R2 invalid zero-sized read",
        {},
    ),
    (
        "ringbuf_spilled_pointer_leak",
        """
        stxdw [r10-8], r10
        mov r1, 1
        mov r2, r10
        add r2, -8
        mov r3, 8
        mov r4, 0
        call ringbuf_output
        exit""",
        6,
        "invalid helper of spilled pointer from stack",
        {},
    ),
    # ---------------------------------------------------------- atomics
    (
        "atomic_on_ctx",
        "mov r2, 1\natomic_add64 [r1+24], r2\nmov r0, 0\nexit",
        1,
        "BPF_ATOMIC stores into R1 ctx is not allowed",
        {},
    ),
    (
        "atomic_misaligned_map",
        lookup(0)
        + """
        jeq r0, 0, out
        mov r1, 1
        atomic_add32 [r0+2], r1
    out:"""
        + RET0,
        7,
        "misaligned access",
        {},
    ),
    (
        "atomic_uninit_stack",
        "mov r1, 1\natomic_add64 [r10-8], r1\nmov r0, 0\nexit",
        1,
        "invalid atomic from stack off -8+0 size 8",
        {},
    ),
    (
        "atomic_misaligned_stack",
        "stdw [r10-8], 0\nmov r1, 1\natomic_add32 [r10-6], r1\nmov r0, 0\nexit",
        2,
        "misaligned stack access off -6 size 4",
        {},
    ),
    (
        "cmpxchg_r0_uninit",
        "stdw [r10-8], 0\nmov r1, 1\ncmpxchg64 [r10-8], r1\nexit",
        2,
        "R0 !read_ok",
        {},
    ),
    # ---------------------------------------------------------- packet
    (
        # constant offsets need no data_end check, but must lie inside the hook's
        # fixed payload (SYS_ENTER: 56 bytes) when the hook is known at load
        "pkt_no_check_past_payload",
        "ldxdw r2, [r1+0]\nldxb r0, [r2+56]\nexit",
        1,
        "invalid access to packet, off=56 size=1, R2(id=1,off=0,r=0)",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_read_past_check",
        pkt(8) + "ldxdw r0, [r2+52]\nexit\nout:" + RET0,
        5,
        "invalid access to packet, off=52 size=8, R2(id=1,off=0,r=8)",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_wrong_branch",
        """
        ldxdw r2, [r1+0]
        ldxdw r3, [r1+8]
        mov r4, r2
        add r4, 8
        jgt r4, r3, bad
        mov r0, 0
        exit
    bad:
        ldxdw r0, [r2+50]
        exit""",
        7,
        "invalid access to packet, off=50 size=8",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_write",
        pkt(8) + "stdw [r2+0], 1\nout:" + RET0,
        5,
        "R2 cannot write into pkt",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_signed_compare",
        """
        ldxdw r2, [r1+0]
        ldxdw r3, [r1+8]
        jsgt r2, r3, +0
        mov r0, 0
        exit""",
        2,
        "R2 pointer comparison prohibited",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_var_offset_unchecked",
        pkt(8)
        + """
        mov r6, r2
        call ktime_get_ns
        and r0, 15
        add r6, r0
        ldxb r0, [r6+0]
        exit
    out:"""
        + RET0,
        9,
        "invalid access to packet, off=0 size=1, R6(id=2,off=0,r=0)",
        {"hook": SYS_ENTER},
    ),
    (
        "pkt_var_offset_partly_checked",
        pkt(8)
        + """
        mov r6, r2
        call ktime_get_ns
        and r0, 3
        add r6, r0
        ldxw r0, [r6+0]
        ldxw r0, [r6+2]
        exit
    out:"""
        + RET0,
        10,
        "invalid access to packet, off=2 size=4, R6(id=2,off=0,r=5)",
        {"hook": SYS_ENTER},
    ),
    # ---------------------------------------------------------- loops and complexity
    ("infinite_loop", "mov r0, 0\nl: add r0, 0\nja l", 1, "infinite loop detected at insn 1", {}),
    ("infinite_loop_self", "mov r0, 0\nl: ja l", 1, "infinite loop detected at insn 1", {}),
    (
        "unbounded_loop_counter",
        """
        call ktime_get_ns
        mov r1, 0
    l:  add r1, 1
        jlt r1, r0, l
        mov r0, r1
        exit""",
        -1,
        "back-edge from insn 3 to 2: program too complex",
        {"max_insns": 20_000},
    ),
    (
        "loop_too_long_for_budget",
        """
        mov r1, 0
    l:  add r1, 1
        jlt r1, 100000, l
        mov r0, r1
        exit""",
        -1,
        "program too complex",
        {"max_insns": 5_000},
    ),
    (
        "straight_line_budget",
        "mov r0, 0\n" * 50 + "exit",
        -1,
        "BPF program is too large: program too complex, processed 10 insns (limit 10)",
        {"max_insns": 10},
    ),
    (
        "loop_unbounded_from_map",
        lookup(0)
        + """
        jeq r0, 0, out
        ldxdw r1, [r0+0]
        mov r2, 0
    l:  add r2, 1
        jlt r2, r1, l
    out:"""
        + RET0,
        -1,
        "program too complex",
        {"max_insns": 20_000},
    ),
    # ---------------------------------------------------------- local calls
    (
        "call_too_deep",
        "\n".join(
            ["call f1\nexit"]
            + [f"f{i}: call f{i + 1}\nexit" for i in range(1, 8)]
            + ["f8: mov r0, 0\nexit"]
        ),
        14,
        "the call stack of 9 frames is too deep",
        {},
    ),
    ("recursion", "call f\nexit\nf: call f\nexit", 2, "recursive call from insn 2 to 2", {}),
    (
        "return_callee_stack_ptr",
        "call f\nmov r0, 0\nexit\nf: mov r0, r10\nexit",
        4,
        "cannot return stack pointer to the caller frame",
        {},
    ),
    (
        "spill_callee_stack_ptr_to_caller",
        """
        mov r1, r10
        add r1, -8
        call f
        mov r0, 0
        exit
    f:  stxdw [r1+0], r10
        mov r0, 0
        exit""",
        5,
        "cannot spill pointers to stack into stack frame of the caller",
        {},
    ),
    (
        "callee_reads_caller_uninit_stack",
        """
        mov r1, r10
        add r1, -8
        call f
        exit
    f:  ldxdw r0, [r1+0]
        exit""",
        4,
        "invalid read from stack off -8+0 size 8",
        {},
    ),
    (
        "callee_ptr_arg_not_scalar_exit",
        "mov r1, r10\ncall f\nexit\nf: mov r0, r1\nexit",
        2,
        "R0 leaks addr as return value",
        {},
    ),
    # ---------------------------------------------------------- raw memory
    (
        "raw_mem_out_of_bounds",
        "ldxdw r0, [r1+60]\nexit",
        0,
        "invalid access to memory, mem_size=64 off=60 size=8",
        {"hook": RAW64},
    ),
]


@pytest.mark.parametrize(("src", "kw"), [(s, k) for _, s, k in ACCEPT], ids=[c[0] for c in ACCEPT])
def test_accept(src: str, kw: dict) -> None:
    result = verify(assemble(src), MAPS, **kw)
    assert result.insns_processed > 0
    assert "processed" in result.log


@pytest.mark.parametrize(
    ("src", "idx", "reason", "kw"),
    [(s, i, r, k) for _, s, i, r, k in REJECT],
    ids=[c[0] for c in REJECT],
)
def test_reject(src: str, idx: int, reason: str, kw: dict) -> None:
    with pytest.raises(VerifierError) as info:
        verify(assemble(src), MAPS, **kw)
    err = info.value
    assert reason in err.reason, err.log
    if idx >= 0:
        assert err.insn_idx == idx, err.log
    assert f"{err.insn_idx}: {err.reason}" in err.log or err.insn_idx < 0
