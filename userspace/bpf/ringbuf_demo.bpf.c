/* ringbuf_demo.bpf.c: the ringbuf demo's timer program in C (ABI section 11 (b)).
 *
 * On every timer tick: write ktime_get_ns() (8 bytes) to the `events` ringbuf
 * (4096 bytes), which userspace polls and prints as
 * "[bpf_loader] Event #k: timestamp=<ns> (8 bytes)". Pinned as "ringbuf_demo/events"
 * and "ringbuf_demo/prog/timestamp". */
#include "axiom_bpf.h"

BPF_RINGBUF_DEF(events, 4096);

SEC("timer") int timestamp(struct bpf_context *ctx)
{
    __u64 ts = bpf_ktime_get_ns();
    bpf_ringbuf_output(&events, &ts, sizeof(ts), 0);
    return 0;
}
