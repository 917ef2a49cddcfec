/* pwm_demo: the original's PWM tracing demo (Raspberry Pi 5, `--machine rpi5`).
 * A PWM observer program copies every PWM event (timestamp, channel, duty_ns,
 * period_ns: 20 bytes) into a 4096-byte ringbuf; a timer controller program sets
 * PWM0 channel 1 to `ktime_get_ns() & 127` percent (capped at 100) on every tick;
 * userspace polls the ringbuf forever, sleeping 100 ms when it is empty.
 *
 * Output:
 *   === PWM Tracing Demo ===
 *   BPF-based PWM event tracing with nanosecond timestamps
 *   <blank>
 *   Creating ringbuf map...
 *   Ringbuf map created, ID: <R>
 *   Loading PWM Observer program...
 *   Observer loaded, ID: <O>
 *   Attaching Observer to PWM0 Channel 1...
 *   Observer attached to PWM0:1
 *   Loading Controller program...
 *   Controller loaded, ID: <C>
 *   Attaching Controller to Timer...
 *   Controller attached to Timer
 *   <blank>
 *   Polling for PWM trace events...
 *   <blank>
 *   [<n>] PWM ch=<c> duty=<pct>% (<duty_ns>ns/<period_ns>ns) at t=<ns>ns
 * Failures print `Error: Failed to <step>` and exit 1.
 *
 * Differences from the original's programs: the observer reads the event through
 * ctx->data with a data_end check (the original read the BpfContext at R1 + 0..20),
 * and ringbuf_output is helper 8 (the original used the retired number 6). */
#include "bpf_user.h"

#define TRACE_EVENT_SIZE 20
#define OBS_MAP_SLOT 13 /* the slot whose imm is the ringbuf map id */

static struct bpf_insn observer[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),        /* 0: r6 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 8),        /* 1: r2 = ctx->data_end */
    BPF_MOV64_REG(BPF_REG_3, BPF_REG_6),                 /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, 32),               /* 3: r3 = data + sizeof(PwmEvent) */
    BPF_JMP_REG(BPF_JGT, BPF_REG_3, BPF_REG_2, 14),      /* 4: too short -> exit */
    BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_6, 0),        /* 5: timestamp */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_7, -24),     /* 6 */
    BPF_LDX_MEM(BPF_W, BPF_REG_7, BPF_REG_6, 12),        /* 7: channel */
    BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_7, -16),      /* 8 */
    BPF_LDX_MEM(BPF_W, BPF_REG_7, BPF_REG_6, 20),        /* 9: duty_ns */
    BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_7, -12),      /* 10 */
    BPF_LDX_MEM(BPF_W, BPF_REG_7, BPF_REG_6, 16),        /* 11: period_ns */
    BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_7, -8),       /* 12 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                         /* 13: r1 = ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),                /* 14 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -24),              /* 15: r2 = &event */
    BPF_MOV64_IMM(BPF_REG_3, TRACE_EVENT_SIZE),          /* 16 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                         /* 17 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),            /* 18 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                         /* 19: exit */
    BPF_EXIT_INSN(),                                     /* 20 */
};

static struct bpf_insn controller[] = {
    BPF_CALL_HELPER(BPF_FUNC_ktime_get_ns),              /* 0 */
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_0),                 /* 1 */
    BPF_ALU64_IMM(BPF_AND, BPF_REG_1, 127),              /* 2: 0..127 */
    BPF_JMP_IMM(BPF_JGT, BPF_REG_1, 100, 1),             /* 3: > 100 -> cap */
    BPF_JMP_A(1),                                        /* 4 */
    BPF_MOV64_IMM(BPF_REG_1, 100),                       /* 5 */
    BPF_MOV64_REG(BPF_REG_3, BPF_REG_1),                 /* 6: duty % */
    BPF_MOV64_IMM(BPF_REG_1, 0),                         /* 7: PWM0 */
    BPF_MOV64_IMM(BPF_REG_2, 1),                         /* 8: channel 1 */
    BPF_CALL_HELPER(BPF_FUNC_pwm_write),                 /* 9 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                         /* 10 */
    BPF_EXIT_INSN(),                                     /* 11 */
};

static void fail(const char *what)
{
    printf("Error: Failed to %s\n", what);
    exit(1);
}

static uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(void)
{
    print("=== PWM Tracing Demo ===\n");
    print("BPF-based PWM event tracing with nanosecond timestamps\n\n");

    print("Creating ringbuf map...\n");
    long map = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    if (map < 0)
        fail("create ringbuf map");
    printf("Ringbuf map created, ID: %ld\n", map);

    print("Loading PWM Observer program...\n");
    observer[OBS_MAP_SLOT].imm = (int32_t)map;
    long obs = bpf_prog_load(observer, BPF_INSN_COUNT(observer), "pwm_observer", BPF_ATTACH_PWM,
                             0, 0);
    if (obs < 0)
        fail("load observer");
    printf("Observer loaded, ID: %ld\n", obs);

    print("Attaching Observer to PWM0 Channel 1...\n");
    struct bpf_attr attr = {0};
    attr.attach_btf_id = BPF_ATTACH_PWM;
    attr.attach_prog_fd = (uint32_t)obs;
    attr.key = 0;   /* chip */
    attr.value = 1; /* channel */
    if (bpf_cmd(BPF_PROG_ATTACH, &attr) < 0)
        fail("attach observer");
    print("Observer attached to PWM0:1\n");

    print("Loading Controller program...\n");
    long ctrl = bpf_prog_load(controller, BPF_INSN_COUNT(controller), "pwm_controller",
                              BPF_ATTACH_TIMER, 0, 0);
    if (ctrl < 0)
        fail("load controller");
    printf("Controller loaded, ID: %ld\n", ctrl);

    print("Attaching Controller to Timer...\n");
    if (bpf_prog_attach(ctrl, BPF_ATTACH_TIMER) < 0)
        fail("attach controller");
    print("Controller attached to Timer\n\n");

    print("Polling for PWM trace events...\n\n");
    uint8_t event[32];
    unsigned long count = 0;
    for (;;) {
        long n = bpf_ringbuf_poll(map, event, sizeof event);
        if (n < TRACE_EVENT_SIZE) {
            sleep_ms(100);
            continue;
        }
        uint64_t ts = (uint64_t)u32_at(event) | (uint64_t)u32_at(event + 4) << 32;
        uint32_t channel = u32_at(event + 8), duty_ns = u32_at(event + 12);
        uint32_t period_ns = u32_at(event + 16);
        unsigned long pct = period_ns ? (unsigned long)duty_ns * 100 / period_ns : 0;
        count++;
        printf("[%lu] PWM ch=%u duty=%lu%% (%uns/%uns) at t=%luns\n", count, channel, pct,
               duty_ns, period_ns, (unsigned long)ts);
    }
}
