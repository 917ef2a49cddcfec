/* t_orig_payload: the payload requirement of programs that read the hook payload at
 * constant offsets without a data_end check (spec deviation 6), and the hint for
 * the pre-HEAD helper numbering.
 *
 *  1. the sys_exit demo's program shape (reads 16 bytes unchecked), loaded without
 *     expected_attach_type: refused on TIMER (no payload), fine on SCHED_SWITCH (40
 *     bytes) and SYS_EXIT (16)
 *  2. the sched_switch program (40 bytes) attached to SYS_EXIT (16 bytes): refused
 *  3. the same with expected_attach_type = SYS_EXIT: refused at load
 *  4. a variable payload offset without data_end: refused at load
 *  5. the original HEAD bpf_loader's map lookup as helper 3: refused, log has a hint
 *
 * Output:
 *   sys_exit-shaped program <p>: attach TIMER -2, attach SCHED_SWITCH 0, attach SYS_EXIT 0
 *   sched_switch-shaped program <q>: attach SYS_EXIT -2, attach SYS_ENTER 0
 *   expected_attach_type SYS_EXIT: load -2: <last verifier log line>
 *   variable offset: load -2: <last verifier log line>
 *   old helper ids: load -2
 *   <the last two lines of the verifier log: the error and the hint>
 * Exit status 0 when every result is as listed. */
#include "bpf_user.h"

static const struct bpf_insn sys_exit_shape[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 0),      /* r2 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_2, 8),      /* result, offset 8..16 unchecked */
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static const struct bpf_insn sched_switch_shape[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 0),      /* r2 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_2, 32),     /* next_tid, offset 32..40 */
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static const struct bpf_insn variable_offset[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),      /* r6 = ctx->data */
    BPF_CALL_HELPER(BPF_FUNC_ktime_get_ns),
    BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 8),
    BPF_ALU64_REG(BPF_ADD, BPF_REG_6, BPF_REG_0),      /* data + (0 or 8) */
    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_6, 0),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

/* The original HEAD bpf_loader's first steps: lookup as helper 3 (map id in R1). */
static const struct bpf_insn old_ids[] = {
    BPF_MOV64_IMM(BPF_REG_1, 0),
    BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, -4),
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* map id */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
    BPF_CALL_HELPER(3),                                /* old map_lookup_elem */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 4),
    BPF_MOV64_REG(BPF_REG_6, BPF_REG_0),
    BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, 0),
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),
    BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static char log_buf[1024];
static int failures;

static long load(const struct bpf_insn *insns, int cnt, uint32_t expected)
{
    log_buf[0] = 0;
    return bpf_prog_load(insns, cnt, "payload", expected, log_buf, sizeof log_buf);
}

/* The last n lines of the log, without its final newline. */
static const char *tail_line(int n)
{
    long end = (long)strlen(log_buf);
    while (end > 0 && log_buf[end - 1] == '\n')
        end--;
    log_buf[end] = 0; /* the caller prints its own newline */
    long i = end;
    for (int k = 0; k < n && i > 0; k++) {
        i--;
        while (i > 0 && log_buf[i - 1] != '\n')
            i--;
    }
    return log_buf + i;
}

static void expect(long got, long want)
{
    if (got != want)
        failures++;
}

int main(void)
{
    long p = load(sys_exit_shape, BPF_INSN_COUNT(sys_exit_shape), 0);
    long t = bpf_prog_attach(p, BPF_ATTACH_TIMER);
    long s = bpf_prog_attach(p, BPF_ATTACH_SCHED_SWITCH);
    long e = bpf_prog_attach(p, BPF_ATTACH_SYS_EXIT);
    printf("sys_exit-shaped program %ld: attach TIMER %ld, attach SCHED_SWITCH %ld, "
           "attach SYS_EXIT %ld\n", p, t, s, e);
    expect(t, -EACCES), expect(s, 0), expect(e, 0);
    bpf_prog_detach(p, BPF_ATTACH_SCHED_SWITCH);
    bpf_prog_detach(p, BPF_ATTACH_SYS_EXIT);

    long q = load(sched_switch_shape, BPF_INSN_COUNT(sched_switch_shape), 0);
    long x = bpf_prog_attach(q, BPF_ATTACH_SYS_EXIT);
    long y = bpf_prog_attach(q, BPF_ATTACH_SYS_ENTER);
    printf("sched_switch-shaped program %ld: attach SYS_EXIT %ld, attach SYS_ENTER %ld\n", q, x,
           y);
    expect(x, -EACCES), expect(y, 0);
    bpf_prog_detach(q, BPF_ATTACH_SYS_ENTER);

    long r = load(sched_switch_shape, BPF_INSN_COUNT(sched_switch_shape), BPF_ATTACH_SYS_EXIT);
    printf("expected_attach_type SYS_EXIT: load %ld: %s\n", r, tail_line(2));
    expect(r, -EACCES);

    r = load(variable_offset, BPF_INSN_COUNT(variable_offset), 0);
    printf("variable offset: load %ld: %s\n", r, tail_line(2));
    expect(r, -EACCES);

    r = load(old_ids, BPF_INSN_COUNT(old_ids), 0);
    printf("old helper ids: load %ld\n%s\n", r, tail_line(3));
    expect(r, -EACCES);
    return failures ? 1 : 0;
}
