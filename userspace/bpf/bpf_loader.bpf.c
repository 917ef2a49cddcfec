/* bpf_loader.bpf.c: the end-to-end demo's timer program in C (ABI section 11).
 *
 * On every timer tick: counter[0] += 1 in place, send the new value (8 bytes) to the
 * `events` ringbuf, print "Tick!" with trace_printk, return 0 -- what the
 * hand-assembled 27-slot program of bpf_loader does. Maps: `counter` (array, key 4,
 * value 8, 1 entry) and `events` (ringbuf, 4096 bytes); pinned by the loader as
 * "bpf_loader/counter" and "bpf_loader/events", the program as "bpf_loader/prog/tick". */
#include "axiom_bpf.h"

BPF_MAP_DEF(counter, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64), 1);
BPF_RINGBUF_DEF(events, 4096);

SEC("timer") int tick(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&counter, &key);
    if (!value)
        return 0;
    __u64 count = *value + 1;
    *value = count;
    bpf_ringbuf_output(&events, &count, sizeof(count), 0);
    char msg[] = "Tick!";
    bpf_trace_printk(msg, sizeof(msg));
    return 0;
}
