/* t_orig_timer_ctx: the timer program of the original's HEAD `benchmark`, loaded the
 * way it loads it (prog_type 1, no expected_attach_type). It calls ktime_get_ns and
 * then helpers 13, 15, 16 and 17 without ever setting R1 (after the first call R1 is
 * not even readable): those helpers take no argument, they return fields of the
 * running program's own context. Each tick it writes the five values (40 bytes) to a
 * ringbuf. Before attaching, this program sleeps 100 ms and creates a map, so live
 * values (boot time, kernel heap) would differ from the boot snapshot.
 *
 * Output (x86_64: the TIMER context carries no metric fields, all 0; AArch64: the
 * AXIOM KERNEL METRICS snapshot, "boot_time_ms=0 heap_kb=256 image_mb=1"):
 *   [timer_ctx] program <p> (17 insns) loaded and attached to TIMER
 *   [timer_ctx] record: boot_time_ms=<ms> heap_kb=<kb> image_mb=<mb> latency_ns=0
 * A failing step prints `[timer_ctx] FAILED at <step> (error <n>)`; exit 1. */
#include "bpf_user.h"

#define RB_SLOT 10

static struct bpf_insn prog[] = {
    BPF_CALL_HELPER(BPF_FUNC_ktime_get_ns),                /* 0 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -40),       /* 1 */
    BPF_CALL_HELPER(BPF_FUNC_get_interrupt_latency_ns),    /* 2: R1 unreadable here */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -32),       /* 3 */
    BPF_CALL_HELPER(BPF_FUNC_get_boot_time_ms),            /* 4 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -24),       /* 5 */
    BPF_CALL_HELPER(BPF_FUNC_get_kernel_heap_kb),          /* 6 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -16),       /* 7 */
    BPF_CALL_HELPER(BPF_FUNC_get_kernel_image_mb),         /* 8 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -8),        /* 9 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                           /* 10: ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),                  /* 11 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -40),                /* 12 */
    BPF_MOV64_IMM(BPF_REG_3, 40),                          /* 13 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                           /* 14 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),              /* 15 */
    BPF_EXIT_INSN(),                                       /* 16: r0 = helper result */
};

static char log_buf[256];

static void check(const char *step, long r)
{
    if (r >= 0)
        return;
    printf("[timer_ctx] FAILED at %s (error %ld)\n", step, r);
    if (log_buf[0])
        print(log_buf);
    exit(1);
}

int main(void)
{
    sleep_ms(100);
    check("map", bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 4096, 16));
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    check("ringbuf", rb);
    prog[RB_SLOT].imm = (int32_t)rb;
    struct bpf_attr attr = {0};
    attr.prog_type = 1;
    attr.insn_cnt = BPF_INSN_COUNT(prog);
    attr.insns = (uint64_t)prog;
    attr.log_level = 1;
    attr.log_size = sizeof log_buf;
    attr.log_buf = (uint64_t)log_buf;
    long id = bpf_cmd(BPF_PROG_LOAD, &attr);
    check("load", id);
    check("attach", bpf_prog_attach(id, BPF_ATTACH_TIMER));
    printf("[timer_ctx] program %ld (%d insns) loaded and attached to TIMER\n", id,
           BPF_INSN_COUNT(prog));
    uint64_t rec[5];
    long n;
    while ((n = bpf_ringbuf_poll(rb, rec, sizeof rec)) == 0)
        sleep_ms(5);
    check("poll", n);
    bpf_prog_detach(id, BPF_ATTACH_TIMER);
    printf("[timer_ctx] record: boot_time_ms=%lu heap_kb=%lu image_mb=%lu latency_ns=%lu\n",
           (unsigned long)rec[2], (unsigned long)rec[3], (unsigned long)rec[4],
           (unsigned long)rec[1]);
    return 0;
}
