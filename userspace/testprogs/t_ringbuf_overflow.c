/* t_ringbuf_overflow: ring buffer space accounting and drops (spec section 5: a
 * 4096-byte ring holds 256 records of 8 payload bytes; the 257th is dropped).
 *
 * A SYS_ENTER program fires on every syscall but acts only on getcwd calls whose
 * size argument is the marker 4093 (so nothing else in the system can disturb
 * it): it increments seq = array[0], writes seq (8 bytes) into the ringbuf and,
 * when ringbuf_output fails, increments array[1] (drops) and remembers the error
 * in array[2]. Userspace makes 300 such getcwd calls, detaches, then drains.
 *
 * Output (both architectures, fresh boot):
 *   ringbuf id=0, array id=1, program id=0 (33 insns) attached to SYS_ENTER
 *   300 getcwd calls made
 *   received 256
 *   sequence 1..256 in order: OK
 *   program saw 300 calls, dropped 44, last error -50
 *   ringbuf empty after drain: OK
 *   t_ringbuf_overflow: OK
 * Exit status 0; 1 on any mismatch (the last line then says FAILED). */
#include "bpf_user.h"

#define CALLS 300
#define MARK 4093 /* getcwd size argument that identifies our calls */
#define RB_SIZE 4096
#define CAPACITY (RB_SIZE / 16) /* 8-byte header + 8-byte payload per record */

#define ARR_SLOT 11
#define RB_SLOT 20

static struct bpf_insn prog[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 0),      /* 0: r2 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_1, 8),      /* 1: r3 = ctx->data_end */
    BPF_MOV64_REG(BPF_REG_4, BPF_REG_2),               /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, 24),             /* 3: nr, arg1, arg2 */
    BPF_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 26),    /* 4: if data + 24 > data_end goto 31 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_4, BPF_REG_2, 0),      /* 5: r4 = nr */
    BPF_JMP_IMM(BPF_JNE, BPF_REG_4, SYS_GETCWD, 24),   /* 6: not getcwd: goto 31 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_4, BPF_REG_2, 16),     /* 7: r4 = arg2 (size) */
    BPF_JMP_IMM(BPF_JNE, BPF_REG_4, MARK, 22),         /* 8: not ours: goto 31 */
    BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),              /* 9: key = 0 */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 10 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 11: r1 = array id (patched) */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),             /* 12: r2 = &key */
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),         /* 13 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 16),            /* 14: if !counters goto 31 */
    BPF_MOV64_REG(BPF_REG_6, BPF_REG_0),               /* 15: r6 = counters (u64[3]) */
    BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, 0),      /* 16 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),              /* 17 */
    BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),      /* 18: seq = ++counters[0] */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -16),   /* 19 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 20: r1 = ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 21 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -16),            /* 22: r2 = &seq */
    BPF_MOV64_IMM(BPF_REG_3, 8),                       /* 23 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                       /* 24 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),          /* 25 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 4),             /* 26: stored: goto 31 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, 8),      /* 27 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),              /* 28 */
    BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 8),      /* 29: counters[1]++ (drops) */
    BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_0, 16),     /* 30: counters[2] = error */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 31: out */
    BPF_EXIT_INSN(),                                   /* 32 */
};

static char log_buf[1024];
static char cwd[MARK];

struct counters {
    uint64_t seq;
    uint64_t dropped;
    int64_t last_error;
};

int main(void)
{
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, RB_SIZE);
    long arr = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct counters), 1);
    if (rb < 0 || arr < 0) {
        printf("map setup FAILED (error %ld %ld)\n", rb, arr);
        return 1;
    }
    prog[ARR_SLOT].imm = (int32_t)arr;
    prog[RB_SLOT].imm = (int32_t)rb;
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "overflow", BPF_ATTACH_SYS_ENTER, log_buf,
                            sizeof log_buf);
    if (id < 0) {
        printf("PROG_LOAD FAILED (error %ld)\n%s", id, id == -EACCES ? log_buf : "");
        return 1;
    }
    long r = bpf_prog_attach(id, BPF_ATTACH_SYS_ENTER);
    if (r < 0) {
        printf("PROG_ATTACH FAILED (error %ld)\n", r);
        return 1;
    }
    printf("ringbuf id=%ld, array id=%ld, program id=%ld (%d insns) attached to SYS_ENTER\n", rb,
           arr, id, BPF_INSN_COUNT(prog));

    int bad_calls = 0;
    for (int i = 0; i < CALLS; i++)
        if (getcwd(cwd, MARK) != (long)cwd)
            bad_calls++;
    r = bpf_prog_detach(id, BPF_ATTACH_SYS_ENTER);
    printf("%d getcwd calls made%s\n", CALLS, bad_calls ? " (SOME FAILED)" : "");
    int ok = r == 0 && !bad_calls;

    /* Drain: payloads are the sequence numbers of the records that fit. */
    int received = 0, in_order = 1;
    uint64_t seq;
    while ((r = bpf_ringbuf_poll(rb, &seq, sizeof seq)) == sizeof seq) {
        received++;
        if (seq != (uint64_t)received)
            in_order = 0;
    }
    printf("received %d\n", received);
    printf("sequence 1..%d in order: %s\n", received, in_order ? "OK" : "FAILED");

    struct counters c = {0, 0, 0};
    uint32_t key = 0;
    long lr = bpf_map_lookup(arr, &key, &c);
    printf("program saw %lu calls, dropped %lu, last error %ld\n", (unsigned long)c.seq,
           (unsigned long)c.dropped, (long)c.last_error);
    printf("ringbuf empty after drain: %s\n", r == 0 ? "OK" : "FAILED");

    ok = ok && lr == 0 && r == 0 && in_order && received == CAPACITY && c.seq == CALLS &&
         c.dropped == CALLS - CAPACITY && c.last_error == -ENOSPC;
    printf("t_ringbuf_overflow: %s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
