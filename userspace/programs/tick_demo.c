/* tick_demo: the first-phase timer demo (spec section 11 (a)). A 12-slot timer
 * program builds "BPF tick!" on its stack and prints it with trace_printk, so the
 * kernel log shows `[BPF] BPF tick!` on every timer tick while it is attached.
 *
 * Output (the `[BPF] BPF tick!` lines are kernel INFO lines from
 * kernel::bpf::helpers, one per tick while attached: 10 in the 50 ms on x86_64
 * (200 Hz), 5 on AArch64 (100 Hz); <P> = 0 on a fresh boot):
 *   [bpf_loader] Starting BPF loader...
 *   [bpf_loader] Loading BPF program (12 instructions)...
 *   [bpf_loader] BPF program loaded with id=<P>
 *   [bpf_loader] Attaching program to timer...
 *   [bpf_loader] SUCCESS: BPF program attached to timer!
 *   INFO  ... [kernel::bpf::helpers] [BPF] BPF tick!      (x 10 / x 5)
 *   [bpf_loader] Detached after 50 ms
 * A failing step prints `[bpf_loader] FAILED (error <n>)` (n = the raw negative
 * result; a verifier rejection adds `[bpf_loader] verifier: <log>`) and exits 1.
 * Exit status 0. */
#include "bpf_user.h"

#define SLEEP_MS 50

/* "BPF tick!" = 9 chars + NUL at r10-16 .. r10-7, then trace_printk(str, 10). */
static const struct bpf_insn prog[] = {
    BPF_LD_IMM64(BPF_REG_1, 0x6b63697420465042ull),   /* 0-1: r1 = "BPF tick" */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -16),   /* 2: *(u64 *)(r10 - 16) = r1 */
    BPF_MOV64_IMM(BPF_REG_1, '!'),                     /* 3 */
    BPF_STX_MEM(BPF_B, BPF_REG_10, BPF_REG_1, -8),     /* 4: *(u8 *)(r10 - 8) = '!' */
    BPF_ST_MEM(BPF_B, BPF_REG_10, -7, 0),              /* 5: *(u8 *)(r10 - 7) = NUL */
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),              /* 6 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -16),            /* 7: r1 = "BPF tick!" */
    BPF_MOV64_IMM(BPF_REG_2, 10),                      /* 8: r2 = size with NUL */
    BPF_CALL_HELPER(BPF_FUNC_trace_printk),            /* 9 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 10 */
    BPF_EXIT_INSN(),                                   /* 11 */
};
_Static_assert(BPF_INSN_COUNT(prog) == 12, "the spec's tick program has 12 slots");

static char log_buf[512];

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[bpf_loader] FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("[bpf_loader] verifier: %s\n", log_buf);
    exit(1);
}

int main(void)
{
    print("[bpf_loader] Starting BPF loader...\n");
    printf("[bpf_loader] Loading BPF program (%d instructions)...\n", BPF_INSN_COUNT(prog));
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "bpf_tick", BPF_ATTACH_TIMER, log_buf,
                            sizeof log_buf);
    check(id);
    printf("[bpf_loader] BPF program loaded with id=%ld\n", id);

    print("[bpf_loader] Attaching program to timer...\n");
    check(bpf_prog_attach(id, BPF_ATTACH_TIMER));
    uint64_t t0 = now_ns();
    print("[bpf_loader] SUCCESS: BPF program attached to timer!\n");

    sleep_ms(SLEEP_MS);
    check(bpf_prog_detach(id, BPF_ATTACH_TIMER));
    uint64_t t1 = now_ns();
    printf("[bpf_loader] Detached after %lu ms\n", (unsigned long)((t1 - t0) / 1000000));
    return 0;
}
