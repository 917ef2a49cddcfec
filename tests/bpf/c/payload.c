#include "bpf_helpers.h"

struct sys_enter_args {
    __u64 nr;
    __u64 args[6];
};

struct iio_sample {
    __u64 timestamp;
    __u32 device_id;
    __u32 channel;
    __s32 value;
    __u32 scale;
    __s32 offset;
    __u32 pad;
};

/* SYS_ENTER: report write() calls (nr 37) with their length argument. */
SEC("sys_enter") int trace_write(struct bpf_context *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct sys_enter_args *a = data;
    if ((void *)(a + 1) > data_end)
        return 0;
    if (a->nr != 37)
        return 0;
    return (int)a->args[2];
}

/* IIO: range filter 100..900 into a ringbuf (map id 1), like iio_demo. */
SEC("iio") int iio_filter(struct bpf_context *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct iio_sample *s = data;
    if (data + sizeof(*s) > data_end)
        return 0;
    __s32 v = s->value;
    if (v < 100 || v > 900)
        return 0;
    __u64 rec = ((__u64)s->channel << 32) | (__u32)v;
    bpf_ringbuf_output(MAP_ID(1), &rec, sizeof(rec), 0);
    return v;
}

/* Reads only the first field, checking just 8 bytes. */
SEC("sys_exit") int sys_exit_nr(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    if ((void *)(p + 1) > (void *)(long)ctx->data_end)
        return -1;
    return (int)*p;
}

/* data_end < data + n form (reversed comparison). */
SEC("sched_switch") int sched_next(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    if ((void *)(long)ctx->data_end < (void *)(p + 5))
        return 0;
    return (int)(p[3] + p[4]);
}

/* Variable index into the payload after masking. */
SEC("sys_enter") int sys_enter_argn(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    if ((void *)(p + 7) > (void *)(long)ctx->data_end)
        return 0;
    __u64 n = p[0] & 3;
    return (int)p[1 + n];
}

/* Context metric fields and a ctx helper. */
SEC("timer") int metrics(struct bpf_context *ctx)
{
    __u64 t = ctx->boot_time_ms + ctx->kernel_heap_kb;
    return (int)(t + bpf_get_boot_time_ms(ctx));
}
