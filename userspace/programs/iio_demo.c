/* iio_demo: range filter on the IIO hook (spec section 11). An IIO program reads
 * each accelerometer sample through ctx->data (bounds-checked against
 * ctx->data_end), keeps only samples with 100 <= value <= 900 and writes
 * {u64 timestamp, i64 value} (16 bytes) into a ringbuf; it returns 1 for a kept
 * sample, 0 for a filtered one (the kernel logs `IIO BPF Hook [id=N] returned: R`
 * for every sample). Userspace collects 5 events, polling every 100 ms.
 *
 * The simulated accelerometer samples every 100 ticks (500 ms on x86_64, 1 s on
 * AArch64); sample k reads (k * 137) mod 1000, so the samples are 0 (filtered),
 * 137, 274, 411, 548, 685 and the output is, on both architectures:
 *   [iio_demo] Starting IIO range filter demo (keep 100 <= value <= 900)...
 *   [iio_demo] ringbuf map id=0, program id=0 (21 insns), attached to IIO
 *   [iio_demo] sample #1: value=137 timestamp=1000000000
 *   [iio_demo] sample #2: value=274 timestamp=1500000000
 *   [iio_demo] sample #3: value=411 timestamp=2000000000
 *   [iio_demo] sample #4: value=548 timestamp=2500000000
 *   [iio_demo] sample #5: value=685 timestamp=3000000000
 *   [iio_demo] detached; 5 samples received, all in range
 * (x86_64, fresh boot; AArch64 prints timestamps 2000000000 .. 6000000000 in steps
 * of 1000000000). Interleaved kernel lines: `IIO BPF Hook [id=0] returned: 0` for
 * sample 0 (value 0), then `... returned: 1` before each sample line.
 * A failing step prints `[iio_demo] FAILED (error <n>)` and exits 1; exit 0. */
#include "bpf_user.h"

#define EVENTS 5
#define LO 100
#define HI 900
#define RB_SLOT 12

struct event {
    uint64_t timestamp;
    int64_t value;
};

static struct bpf_insn prog[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 0),      /* 0: r2 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_1, 8),      /* 1: r3 = ctx->data_end */
    BPF_MOV64_REG(BPF_REG_4, BPF_REG_2),               /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, 20),             /* 3: r4 = data + 20 (ts..value) */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 4: r0 = 0 (filtered) */
    BPF_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 14),    /* 5: if r4 > data_end goto 20 */
    BPF_LDX_MEMSX(BPF_W, BPF_REG_6, BPF_REG_2, 16),    /* 6: r6 = (s32) value */
    BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_2, 0),      /* 7: r7 = timestamp */
    BPF_JMP_IMM(BPF_JSLT, BPF_REG_6, LO, 11),          /* 8: if value < 100 goto 20 */
    BPF_JMP_IMM(BPF_JSGT, BPF_REG_6, HI, 10),          /* 9: if value > 900 goto 20 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_7, -16),   /* 10: event.timestamp */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -8),    /* 11: event.value */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 12: r1 = ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 13 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -16),            /* 14: r2 = &event */
    BPF_MOV64_IMM(BPF_REG_3, sizeof(struct event)),    /* 15 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                       /* 16 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),          /* 17 */
    BPF_MOV64_IMM(BPF_REG_0, 1),                       /* 18: r0 = 1 (kept) */
    BPF_EXIT_INSN(),                                   /* 19 */
    BPF_EXIT_INSN(),                                   /* 20: filtered, r0 = 0 */
};

static char log_buf[512];

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[iio_demo] FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("[iio_demo] verifier: %s\n", log_buf);
    exit(1);
}

int main(void)
{
    printf("[iio_demo] Starting IIO range filter demo (keep %d <= value <= %d)...\n", LO, HI);
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    check(rb);
    prog[RB_SLOT].imm = (int32_t)rb;
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "iio_filter", BPF_ATTACH_IIO, log_buf,
                            sizeof log_buf);
    check(id);
    check(bpf_prog_attach(id, BPF_ATTACH_IIO));
    printf("[iio_demo] ringbuf map id=%ld, program id=%ld (%d insns), attached to IIO\n", rb, id,
           BPF_INSN_COUNT(prog));

    int got = 0, in_range = 1;
    while (got < EVENTS) {
        struct event ev;
        long n = bpf_ringbuf_poll(rb, &ev, sizeof ev);
        if (n < 0 || (n > 0 && n != sizeof ev)) {
            printf("[iio_demo] RINGBUF_POLL failed: %ld\n", n);
            bpf_prog_detach(id, BPF_ATTACH_IIO);
            return 1;
        }
        if (n == 0) {
            sleep_ms(100);
            continue;
        }
        got++;
        if (ev.value < LO || ev.value > HI)
            in_range = 0;
        printf("[iio_demo] sample #%d: value=%ld timestamp=%lu\n", got, (long)ev.value,
               (unsigned long)ev.timestamp);
    }
    check(bpf_prog_detach(id, BPF_ATTACH_IIO));
    printf("[iio_demo] detached; %d samples received, %s\n", got,
           in_range ? "all in range" : "SOME OUT OF RANGE");
    return in_range ? 0 : 1;
}
