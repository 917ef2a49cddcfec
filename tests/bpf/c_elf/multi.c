/* One program per attach type; two programs in one section; payload access. */
#include "axiom_bpf.h"

SEC("timer") int t_first(struct bpf_context *ctx) { return 1; }
SEC("timer") int t_second(struct bpf_context *ctx) { return 2; }

SEC("sys_enter/write") int on_enter(struct bpf_context *ctx)
{
    struct sys_enter_payload *p = BPF_PAYLOAD(ctx, struct sys_enter_payload);
    if (!p)
        return 0;
    return p->syscall_nr == SYS_WRITE ? (int)p->arg3 : 0;
}

SEC("sys_exit") int on_exit(struct bpf_context *ctx)
{
    struct sys_exit_payload *p = BPF_PAYLOAD(ctx, struct sys_exit_payload);
    return p ? (int)p->result : 0;
}

SEC("sched_switch") int on_switch(struct bpf_context *ctx)
{
    struct sched_switch_payload *p = BPF_PAYLOAD(ctx, struct sched_switch_payload);
    return p ? (int)p->next_pid : 0;
}

SEC("iio") int on_sample(struct bpf_context *ctx)
{
    struct iio_payload *p = BPF_PAYLOAD(ctx, struct iio_payload);
    return p ? p->value : 0;
}

SEC("gpio") int on_edge(struct bpf_context *ctx)
{
    struct gpio_payload *p = BPF_PAYLOAD(ctx, struct gpio_payload);
    return p ? (int)p->line : 0;
}

SEC("pwm") int on_pwm(struct bpf_context *ctx)
{
    struct pwm_payload *p = BPF_PAYLOAD(ctx, struct pwm_payload);
    return p ? (int)p->duty_ns : 0;
}
