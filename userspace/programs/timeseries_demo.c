/* timeseries_demo: the kernel's own timeseries map (type 100: key = u64
 * timestamp, ring of `max_entries` entries that overwrites the oldest). A timer
 * program counts ticks in an array map and pushes (ktime_get_ns(), tick count)
 * with the timeseries_push helper (9) on every tick. Userspace reads the newest
 * entry twice with MAP_LOOKUP_ELEM (which returns ts(8) + value), detaches, then
 * walks the kept timestamps with MAP_GET_NEXT_KEY.
 *
 * Output, x86_64 (ticks every 5 ms), fresh boot:
 *   [timeseries_demo] timeseries map id=0 (value 8 bytes, 16 entries), counter map id=1
 *   [timeseries_demo] program id=0 (20 insns) attached to timer
 *   [timeseries_demo] after 100 ms: newest ts=100000000 value=20
 *   [timeseries_demo] after 200 ms: newest ts=200000000 value=40
 *   [timeseries_demo] detached; 16 entries kept (capacity 16), ts 125000000 .. 200000000, step 5000 us
 *   [timeseries_demo] tick counter 40 == newest value: OK
 * AArch64 (every 10 ms): values 10 and 20, "ts 50000000 .. 200000000, step
 * 10000 us", "tick counter 20".
 * A failing step prints `[timeseries_demo] FAILED (error <n>)`; exit 1. Exit 0. */
#include "bpf_user.h"

#define CAPACITY 16
#define ARR_SLOT 1
#define TS_SLOT 12

static struct bpf_insn prog[] = {
    BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),              /* 0: key = 0 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 1: r1 = counter map (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),             /* 3: r2 = &key */
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),         /* 4 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 12),            /* 5: if !value goto 18 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_0, 0),      /* 6 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_6, 1),              /* 7: r6 = ++ticks */
    BPF_STX_MEM(BPF_DW, BPF_REG_0, BPF_REG_6, 0),      /* 8 */
    BPF_CALL_HELPER(BPF_FUNC_ktime_get_ns),            /* 9 */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -16),   /* 10: ts = now */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -24),   /* 11: value = ticks */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 12: r1 = timeseries map (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 13 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -16),            /* 14: r2 = &ts */
    BPF_MOV64_REG(BPF_REG_3, BPF_REG_10),              /* 15 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, -24),            /* 16: r3 = &value */
    BPF_CALL_HELPER(BPF_FUNC_timeseries_push),         /* 17 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 18 */
    BPF_EXIT_INSN(),                                   /* 19 */
};

static char log_buf[512];

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[timeseries_demo] FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("[timeseries_demo] verifier: %s\n", log_buf);
    exit(1);
}

struct entry {
    uint64_t ts;
    uint64_t value;
};

static struct entry newest(long map)
{
    uint64_t key = 0; /* ignored: lookup returns the newest entry */
    struct entry e = {0, 0};
    check(bpf_map_lookup(map, &key, &e));
    return e;
}

int main(void)
{
    long ts_map = bpf_map_create(BPF_MAP_TYPE_TIMESERIES, 8, 8, CAPACITY);
    check(ts_map);
    long counter = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    check(counter);
    printf("[timeseries_demo] timeseries map id=%ld (value 8 bytes, %d entries), counter map "
           "id=%ld\n", ts_map, CAPACITY, counter);

    prog[ARR_SLOT].imm = (int32_t)counter;
    prog[TS_SLOT].imm = (int32_t)ts_map;
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "ts_push", BPF_ATTACH_TIMER, log_buf,
                            sizeof log_buf);
    check(id);
    check(bpf_prog_attach(id, BPF_ATTACH_TIMER));
    printf("[timeseries_demo] program id=%ld (%d insns) attached to timer\n", id,
           BPF_INSN_COUNT(prog));

    for (int i = 1; i <= 2; i++) {
        sleep_ms(100);
        struct entry e = newest(ts_map);
        printf("[timeseries_demo] after %d ms: newest ts=%lu value=%lu\n", i * 100,
               (unsigned long)e.ts, (unsigned long)e.value);
    }
    check(bpf_prog_detach(id, BPF_ATTACH_TIMER));

    /* The kept timestamps, oldest first. */
    uint64_t key = 0, next = 0, first = 0, last = 0;
    const void *prev = NULL;
    int n = 0;
    long r;
    while ((r = bpf_map_get_next_key(ts_map, prev, &next)) == 0) {
        if (n == 0)
            first = next;
        last = next;
        n++;
        key = next;
        prev = &key;
    }
    if (r != -ENOENT)
        check(r);
    unsigned long step_us = n > 1 ? (unsigned long)((last - first) / (n - 1) / 1000) : 0;
    printf("[timeseries_demo] detached; %d entries kept (capacity %d), ts %lu .. %lu, step %lu "
           "us\n", n, CAPACITY, (unsigned long)first, (unsigned long)last, step_us);

    struct entry e = newest(ts_map);
    uint32_t zero = 0;
    uint64_t ticks = 0;
    check(bpf_map_lookup(counter, &zero, &ticks));
    int ok = ticks == e.value && n == CAPACITY && e.ts == last;
    printf("[timeseries_demo] tick counter %lu == newest value: %s\n", (unsigned long)ticks,
           ok ? "OK" : "MISMATCH");
    return ok ? 0 : 1;
}
