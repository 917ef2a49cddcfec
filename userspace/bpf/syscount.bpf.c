/* syscount.bpf.c: count system calls by number, the libbpf way (issue 13's example).
 *
 * - `counts`: a BTF-defined hash map, syscall number -> calls, filled by
 *   count_enter on every sys_enter while ctl.counting is set;
 * - `ctl`: a one-element array the loader writes (counting on/off, summary request)
 *   and report fills (the last summary);
 * - `summary`: a ringbuf; on the first timer tick after the loader asked for it,
 *   report scans syscall numbers 0..SYSCOUNT_MAX_NR-1, sends one struct
 *   syscount_summary (top number, its count, distinct numbers, total calls) and
 *   prints "top=<nr> n=<count>" with bpf_printk.
 * The loader (userspace/programs/syscount.c) uses the generated skeleton
 * (syscount.skel.h), which pins these as "syscount/counts", "syscount/prog/report"... */
#include "axiom_bpf.h"
#include "syscount.h"

char LICENSE[] SEC("license") = "GPL"; /* what libbpf programs carry; the loader ignores it */

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, SYSCOUNT_MAX_NR);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct syscount_ctl);
} ctl SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} summary SEC(".maps");

static __always_inline struct syscount_ctl *control(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&ctl, &zero);
}

SEC("sys_enter") int count_enter(struct bpf_context *ctx)
{
    struct sys_enter_payload *p = BPF_PAYLOAD(ctx, struct sys_enter_payload);
    struct syscount_ctl *c = control();
    if (!p || !c || !c->counting)
        return 0;
    __u32 nr = (__u32)p->syscall_nr;
    __u64 *n = bpf_map_lookup_elem(&counts, &nr);
    if (n) {
        *n += 1;
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&counts, &nr, &one, 0);
    }
    return 0;
}

SEC("timer") int report(struct bpf_context *ctx)
{
    struct syscount_ctl *c = control();
    if (!c || !c->want_summary)
        return 0;
    /* Accumulate in the map value, not in registers: the verifier does not track
     * map contents, so the paths of one iteration merge at the next one. */
    volatile struct syscount_summary *s = &c->last;
    s->top_nr = s->distinct = 0;
    s->top_count = s->total = 0;
    for (__u32 nr = 0; nr < SYSCOUNT_MAX_NR; nr++) {
        __u32 key = nr;
        __u64 *n = bpf_map_lookup_elem(&counts, &key);
        if (!n)
            continue;
        __u64 calls = *n;
        s->distinct += 1;
        s->total += calls;
        if (calls > s->top_count) {
            s->top_count = calls;
            s->top_nr = nr;
        }
    }
    c->want_summary = 0;
    bpf_ringbuf_output(&summary, &c->last, sizeof(c->last), 0);
    bpf_printk("top=%d n=%llu", c->last.top_nr, c->last.top_count);
    return 0;
}
