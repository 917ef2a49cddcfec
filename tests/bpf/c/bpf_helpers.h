/* Minimal helper declarations for the verifier's C test programs (ABI section 6). */
#ifndef AXIOM_TEST_BPF_HELPERS_H
#define AXIOM_TEST_BPF_HELPERS_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
typedef long long __s64;

#define SEC(name) __attribute__((section(name), used))
#define __noinline __attribute__((noinline))

/* BpfContext, 56 bytes */
struct bpf_context {
    __u64 data;
    __u64 data_end;
    __u64 data_meta;
    __u64 interrupt_latency_ns;
    __u64 boot_time_ms;
    __u64 kernel_heap_kb;
    __u64 kernel_image_mb;
};

static __u64 (*bpf_ktime_get_ns)(void) = (void *)1;
static long (*bpf_trace_printk)(const char *fmt, __u32 size) = (void *)2;
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)5;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
                                   __u64 flags) = (void *)6;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)7;
static long (*bpf_ringbuf_output)(void *map, const void *data, __u64 size,
                                  __u64 flags) = (void *)8;
static long (*bpf_timeseries_push)(void *map, const void *ts, const void *value) = (void *)9;
static __u64 (*bpf_get_boot_time_ms)(void *ctx) = (void *)15;
static long (*bpf_gpio_write)(__u32 pin, __u32 value) = (void *)1003;

/* A map named by a plain integer id, as the axiomOS ABI allows. */
#define MAP_ID(n) ((void *)(long)(n))

/* A map declared as a symbol in .maps: the test fixture patches its ld_imm64. */
#define DECLARE_MAP(name) struct { int type; } name SEC(".maps")

#endif
