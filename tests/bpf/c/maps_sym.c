#include "bpf_helpers.h"

/* Maps as .maps symbols: the fixture patches each ld_imm64 to src=1, imm=<id>. */
DECLARE_MAP(counters);   /* hash: key 4, value 8 */
DECLARE_MAP(events);     /* ringbuf */

struct event {
    __u64 ts;
    __u32 pid;
    __u32 kind;
    __u64 count;
};

SEC("timer") int hash_counter(struct bpf_context *ctx)
{
    __u32 key = 7;
    __u64 one = 1;
    __u64 *v = bpf_map_lookup_elem(&counters, &key);
    if (v) {
        __sync_fetch_and_add(v, 1);
    } else {
        bpf_map_update_elem(&counters, &key, &one, 0);
    }
    return 0;
}

SEC("timer") int ringbuf_event(struct bpf_context *ctx)
{
    struct event ev;
    __u32 key = 7;
    __u64 *v = bpf_map_lookup_elem(&counters, &key);
    ev.ts = bpf_ktime_get_ns();
    ev.pid = 42;
    ev.kind = 1;
    ev.count = v ? *v : 0;
    bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
    return 0;
}

SEC("timer") int delete_and_print(struct bpf_context *ctx)
{
    char msg[] = "tick!";
    __u32 key = 7;
    bpf_map_delete_elem(&counters, &key);
    bpf_trace_printk(msg, sizeof(msg));
    return 0;
}
