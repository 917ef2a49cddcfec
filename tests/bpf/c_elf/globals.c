/* Global variables: .data, .bss, .rodata and a string literal (.rodata.str1.1). */
#include "axiom_bpf.h"

__u64 ticks = 100;          /* .data */
__u64 last_seen;            /* .bss */
__u32 pad_and_flag[2];      /* .bss, at offset 8 */
const volatile __u64 step = 5; /* .rodata */

SEC("timer") int bump(struct bpf_context *ctx)
{
    ticks += step;
    last_seen = ticks;
    pad_and_flag[1] = 0xabcd;
    bpf_trace_printk("bumped", sizeof("bumped")); /* a literal: .rodata.str1.1 */
    return (int)(ticks & 0xffff);
}
