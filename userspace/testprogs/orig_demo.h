/* orig_demo.h: what the C reproductions of the original axiomOS hook demos share
 * (t_orig_sys_exit, t_orig_sched_switch, t_orig_export, t_orig_bridge). They load
 * their programs exactly as the originals: prog_type 1, no expected_attach_type,
 * payload read at constant offsets without a data_end comparison. Header-only. */
#ifndef ORIG_DEMO_H
#define ORIG_DEMO_H

#include "bpf_user.h"

/* PROG_LOAD as the original's demos issue it. */
static inline long orig_prog_load(const struct bpf_insn *insns, int cnt)
{
    struct bpf_attr attr = {0};
    attr.prog_type = 1;
    attr.insn_cnt = (uint32_t)cnt;
    attr.insns = (uint64_t)insns;
    return bpf_cmd(BPF_PROG_LOAD, &attr);
}

/* The original's banner: a rule, two title lines, a rule, a blank line. */
static inline void orig_banner(const char *title, const char *subtitle)
{
    printf("\n========================================\n  %s\n  %s\n"
           "========================================\n\n",
           title, subtitle);
}

/* Steps 1-3 of every hook demo, with the originals' text; exit 1 on a failing step.
 * "[1/4] Creating ringbuf map... OK (id=<n>)" -> the map id. */
static inline long orig_create_ringbuf(void)
{
    print("[1/4] Creating ringbuf map... ");
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    if (rb < 0) {
        print("FAILED\n");
        exit(1);
    }
    printf("OK (id=%ld)\n", rb);
    return rb;
}

/* "[2/4] Loading <hook> trace program... OK (id=<p>)", "[3/4] Attaching to <hook>... OK"
 * (the caller prints the rest of step 4's line) -> the program id. */
static inline long orig_load_and_attach(const struct bpf_insn *insns, int cnt, const char *hook,
                                        uint32_t attach_type)
{
    printf("[2/4] Loading %s trace program... ", hook);
    long id = orig_prog_load(insns, cnt);
    if (id < 0) {
        print("FAILED\n");
        exit(1);
    }
    printf("OK (id=%ld)\n", id);
    printf("[3/4] Attaching to %s... ", hook);
    if (bpf_prog_attach(id, attach_type) != 0) {
        print("FAILED\n");
        exit(1);
    }
    return id;
}

/* "  launch <path> -> pid=<n>"; exits 1 if spawn fails. */
static inline void orig_launch(const char *path)
{
    long pid = spawn(path, strlen(path));
    printf("  launch %s -> pid=%ld%s\n", path, pid, pid < 0 ? " (spawn failed)" : "");
    if (pid < 0)
        exit(1);
}

/* The five u64 of a SCHED_SWITCH payload, as the demos print them. */
static inline void orig_print_switch(const char *label, unsigned n, const uint64_t *e)
{
    printf("  %s%u: cpu=%lu prev(pid=%lu, tid=%lu) -> next(pid=%lu, tid=%lu)\n", label, n,
           (unsigned long)e[0], (unsigned long)e[1], (unsigned long)e[2], (unsigned long)e[3],
           (unsigned long)e[4]);
}

/* The sched_switch program of the original's demos: the whole 40-byte payload
 * goes to the ringbuf, its pointer taken from ctx->data without a data_end check. */
#define ORIG_SCHED_SWITCH_PROG(ringbuf_id)                                                   \
    {                                                                                        \
        BPF_MOV64_REG(BPF_REG_6, BPF_REG_1), BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),   \
            BPF_MOV64_IMM(BPF_REG_1, ringbuf_id), BPF_MOV64_REG(BPF_REG_2, BPF_REG_6),       \
            BPF_MOV64_IMM(BPF_REG_3, 40), BPF_MOV64_IMM(BPF_REG_4, 0),                       \
            BPF_CALL_HELPER(BPF_FUNC_ringbuf_output), BPF_MOV64_IMM(BPF_REG_0, 0),           \
            BPF_EXIT_INSN(),                                                                 \
    }

/* Poll up to `max_polls` times for up to `want` 40-byte SCHED_SWITCH records,
 * sleeping `sleep` ms when empty; prints each and the summary. Returns the count. */
static inline unsigned orig_poll_switches(long rb, const char *label, unsigned want,
                                          unsigned max_polls, long sleep)
{
    uint64_t buf[8];
    unsigned seen = 0, polls = 0;
    while (polls < max_polls && seen < want) {
        polls++;
        long n = bpf_ringbuf_poll(rb, buf, sizeof buf);
        if (n >= 40) {
            orig_print_switch(label, ++seen, buf);
        } else if (n < 0) {
            print("  ringbuf poll failed\n");
            exit(1);
        } else {
            sleep_ms(sleep);
        }
    }
    printf("\nPoll summary: polls=%u events=%u\n", polls, seen);
    return seen;
}

#endif
