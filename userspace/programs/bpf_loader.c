/* bpf_loader: the end-to-end BPF demo (spec section 11): array map + ringbuf +
 * a timer program, then 10 events read back through the ringbuf.
 *
 * Output:
 *   <blank>
 *   ========================================
 *     Axiom BPF End-to-End Demo
 *     Maps + Ringbuf + Timer Attach
 *   ========================================
 *   <blank>
 *   [1/5] Creating array map (counter)... OK (id=<A>)
 *   [2/5] Creating ringbuf map (events)... OK (id=<R>)
 *   [3/5] Loading BPF program... OK (id=<P>, 27 insns)
 *   [4/5] Attaching to timer... OK
 *   [5/5] Entering event loop...
 *   <blank>
 *     Tick #<k> received via ringbuf (counter=<c>), map counter: <m>   (k = 1..10)
 *   <blank>
 *   ========================================
 *     Demo Complete!
 *     Events received: 10
 *     Final map counter: <m>
 *     Pipeline: load -> verify -> attach -> execute -> maps -> ringbuf -> userspace
 *     Phase 1 BPF end-to-end: PROVEN
 *   ========================================
 * A failing step ends its line with "FAILED (error <n>)" (n = the raw negative
 * result; a verifier message follows as "  verifier: <log>") and exits 1. Poll errors
 * print "  [error] RINGBUF_POLL failed: <n>". After the PROVEN block the program is
 * detached (PROG_DETACH) and bpf_loader exits 0. */
#include "bpf_loader_demo.h"


enum { A_MAP_SLOT = 5, R_MAP_SLOT = 13 }; /* slots whose imm is a map id */

/* counter = map[0] + 1 (in place); ringbuf_output(&counter, 8); trace_printk("Tick!") */
static struct bpf_insn prog[] = {
    BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),               /* 0: r6 = ctx (unused) */
    BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),              /* 1: *(u32 *)(r10 - 4) = 0 (key) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),             /* 3: r2 = &key */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 4: r0 = 0 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 5: r1 = counter map id (patched) */
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),         /* 6 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 17),            /* 7: if r0 == 0 goto 25 */
    BPF_MOV64_REG(BPF_REG_7, BPF_REG_0),               /* 8: r7 = &value */
    BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_7, 0),      /* 9: r1 = *(u64 *)r7 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),              /* 10 */
    BPF_STX_MEM(BPF_DW, BPF_REG_7, BPF_REG_1, 0),      /* 11: *(u64 *)r7 = r1 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -16),   /* 12: *(u64 *)(r10 - 16) = r1 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 13: r1 = ringbuf map id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 14 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -16),            /* 15: r2 = &new value */
    BPF_MOV64_IMM(BPF_REG_3, 8),                       /* 16: size */
    BPF_MOV64_IMM(BPF_REG_4, 0),                       /* 17: flags */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),          /* 18 */
    BPF_ST_MEM(BPF_W, BPF_REG_10, -24, BPF_STR4('T', 'i', 'c', 'k')), /* 19: "Tick" */
    BPF_ST_MEM(BPF_W, BPF_REG_10, -20, '!'),           /* 20: "!\0\0\0" */
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),              /* 21 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -24),            /* 22: r1 = "Tick!" */
    BPF_MOV64_IMM(BPF_REG_2, 6),                       /* 23: size */
    BPF_CALL_HELPER(BPF_FUNC_trace_printk),            /* 24 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 25 */
    BPF_EXIT_INSN(),                                   /* 26 */
};

#define NINSNS BPF_INSN_COUNT(prog)
_Static_assert(BPF_INSN_COUNT(prog) == 27, "the spec's program has 27 slots");


/* Ends a step line: OK (...) or FAILED and exit. */
int main(void)
{
    print("\n" LINE "  Axiom BPF End-to-End Demo\n  Maps + Ringbuf + Timer Attach\n" LINE "\n");

    print("[1/5] Creating array map (counter)... ");
    long counter = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    step_result(counter);
    printf("OK (id=%ld)\n", counter);

    print("[2/5] Creating ringbuf map (events)... ");
    long events = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    step_result(events);
    printf("OK (id=%ld)\n", events);

    print("[3/5] Loading BPF program... ");
    prog[A_MAP_SLOT].imm = (int32_t)counter;
    prog[R_MAP_SLOT].imm = (int32_t)events;
    long prog_id = bpf_prog_load(prog, NINSNS, "timer_counter", BPF_ATTACH_TIMER, log_buf,
                                 sizeof log_buf);
    step_result(prog_id);
    printf("OK (id=%ld, %d insns)\n", prog_id, (int)NINSNS);

    return bpf_loader_finish(counter, events, prog_id);
}
