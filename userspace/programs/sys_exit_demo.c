/* sys_exit_demo: a SYS_EXIT program counts syscalls by number in a hash map
 * (key u64 nr, value u64 count) and pushes {u64 nr, i64 result} events for
 * getcwd (35) into a ringbuf. While it is attached userspace makes exactly
 * 3 getcwd and 2 clock_gettime calls and nothing else, then detaches and reads
 * the hash map back with MAP_GET_NEXT_KEY + MAP_LOOKUP_ELEM (insertion order).
 *
 * Output (both architectures, fresh boot; <buf> is the address of the getcwd
 * buffer, which getcwd returns: currently 0x203d60 on x86_64, 0x100021730 on
 * AArch64 -- it moves when the program is rebuilt differently):
 *   [sys_exit_demo] Starting SYS_EXIT demo...
 *   [sys_exit_demo] hash map id=0, ringbuf map id=1, program id=0 (35 insns)
 *   [sys_exit_demo] attached to SYS_EXIT; 3 x getcwd, 2 x clock_gettime, detach
 *   [sys_exit_demo] count: nr=50 calls=1       (the PROG_ATTACH call's own exit is traced)
 *   [sys_exit_demo] count: nr=35 calls=3
 *   [sys_exit_demo] count: nr=54 calls=2
 *   [sys_exit_demo] event: nr=35 result=<buf>  (3 identical lines)
 *   [sys_exit_demo] getcwd=3 clock_gettime=2 events=3: OK
 * A failing step prints `[sys_exit_demo] FAILED (error <n>)`; a count or event
 * mismatch ends with `... : MISMATCH`; both exit 1. Exit status 0. */
#include "bpf_user.h"

#define NR_GETCWD SYS_GETCWD
#define NR_CLOCK SYS_CLOCK_GETTIME
#define HASH_SLOT1 8
#define HASH_SLOT2 17
#define RB_SLOT 27

struct event {
    uint64_t nr;
    int64_t result;
};

static struct bpf_insn prog[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 0),       /* 0: r2 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_1, 8),       /* 1: r3 = ctx->data_end */
    BPF_MOV64_REG(BPF_REG_4, BPF_REG_2),                /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, 16),              /* 3 */
    BPF_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 28),     /* 4: if data + 16 > data_end goto out */
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_2, 0),       /* 5: r6 = syscall nr */
    BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_2, 8),       /* 6: r7 = result */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -8),     /* 7: key = nr */
    BPF_MOV64_IMM(BPF_REG_1, 0),                        /* 8: r1 = hash id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),               /* 9 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8),              /* 10: r2 = &key */
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),          /* 11 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 3),              /* 12: not counted yet: goto insert */
    BPF_MOV64_IMM(BPF_REG_1, 1),                        /* 13 */
    BPF_ATOMIC_ADD(BPF_DW, BPF_REG_0, BPF_REG_1, 0),    /* 14: (*count)++ */
    BPF_JMP_A(8),                                       /* 15: goto event */
    BPF_ST_MEM(BPF_DW, BPF_REG_10, -16, 1),             /* 16: insert: one = 1 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                        /* 17: r1 = hash id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),               /* 18 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8),              /* 19: r2 = &key */
    BPF_MOV64_REG(BPF_REG_3, BPF_REG_10),               /* 20 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, -16),             /* 21: r3 = &one */
    BPF_MOV64_IMM(BPF_REG_4, BPF_ANY),                  /* 22 */
    BPF_CALL_HELPER(BPF_FUNC_map_update_elem),          /* 23 */
    BPF_JMP_IMM(BPF_JNE, BPF_REG_6, NR_GETCWD, 8),      /* 24: event: not getcwd: goto out */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -32),    /* 25: event.nr */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_7, -24),    /* 26: event.result */
    BPF_MOV64_IMM(BPF_REG_1, 0),                        /* 27: r1 = ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),               /* 28 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -32),             /* 29: r2 = &event */
    BPF_MOV64_IMM(BPF_REG_3, sizeof(struct event)),     /* 30 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                        /* 31 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),           /* 32 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                        /* 33: out */
    BPF_EXIT_INSN(),                                    /* 34 */
};

static char log_buf[512];
static char cwd[64];

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[sys_exit_demo] FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("[sys_exit_demo] verifier: %s\n", log_buf);
    exit(1);
}

int main(void)
{
    print("[sys_exit_demo] Starting SYS_EXIT demo...\n");
    long hash = bpf_map_create(BPF_MAP_TYPE_HASH, 8, 8, 64);
    check(hash);
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    check(rb);
    prog[HASH_SLOT1].imm = prog[HASH_SLOT2].imm = (int32_t)hash;
    prog[RB_SLOT].imm = (int32_t)rb;
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "sys_exit_count", BPF_ATTACH_SYS_EXIT,
                            log_buf, sizeof log_buf);
    check(id);
    printf("[sys_exit_demo] hash map id=%ld, ringbuf map id=%ld, program id=%ld (%d insns)\n",
           hash, rb, id, BPF_INSN_COUNT(prog));
    print("[sys_exit_demo] attached to SYS_EXIT; 3 x getcwd, 2 x clock_gettime, detach\n");

    /* The traced window: no other syscall between attach and detach. */
    check(bpf_prog_attach(id, BPF_ATTACH_SYS_EXIT));
    struct timespec ts;
    long r1 = getcwd(cwd, sizeof cwd);
    long r2 = getcwd(cwd, sizeof cwd);
    long r3 = getcwd(cwd, sizeof cwd);
    clock_gettime(0, &ts);
    clock_gettime(0, &ts);
    long detached = bpf_prog_detach(id, BPF_ATTACH_SYS_EXIT);
    check(detached);
    if (r1 != (long)cwd || r2 != (long)cwd || r3 != (long)cwd)
        printf("[sys_exit_demo] getcwd returned %ld %ld %ld, expected %ld\n", r1, r2, r3,
               (long)cwd);

    uint64_t n_getcwd = 0, n_clock = 0;
    uint64_t key = 0, next, count;
    const void *prev = NULL;
    long r;
    while ((r = bpf_map_get_next_key(hash, prev, &next)) == 0) {
        check(bpf_map_lookup(hash, &next, &count));
        printf("[sys_exit_demo] count: nr=%lu calls=%lu\n", (unsigned long)next,
               (unsigned long)count);
        if (next == NR_GETCWD)
            n_getcwd = count;
        if (next == NR_CLOCK)
            n_clock = count;
        key = next;
        prev = &key;
    }
    if (r != -ENOENT)
        check(r);

    int events = 0, events_ok = 1;
    struct event ev;
    while ((r = bpf_ringbuf_poll(rb, &ev, sizeof ev)) > 0) {
        events++;
        printf("[sys_exit_demo] event: nr=%lu result=0x%lx\n", (unsigned long)ev.nr,
               (unsigned long)ev.result);
        if (ev.nr != NR_GETCWD || ev.result != (long)cwd)
            events_ok = 0;
    }
    check(r);

    int ok = n_getcwd == 3 && n_clock == 2 && events == 3 && events_ok;
    printf("[sys_exit_demo] getcwd=%lu clock_gettime=%lu events=%d: %s\n",
           (unsigned long)n_getcwd, (unsigned long)n_clock, events, ok ? "OK" : "MISMATCH");
    return ok ? 0 : 1;
}
