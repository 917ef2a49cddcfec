/* t_pwm: the PWM syscalls 51-53 and GPIO/PWM attach, printing each raw result.
 * Raspberry Pi 5: 0 for good calls, -EINVAL (-27) for a bad PWM id or channel;
 * pc and virt: -ENOSYS (-51) for every PWM syscall (they do not exist there). Attaching programs to GPIO and
 * PWM succeeds on every board. */
#include "bpf_user.h"

static const struct bpf_insn ret0[] = {
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static long attach(uint32_t type, uint64_t key, uint64_t value)
{
    long id = bpf_prog_load(ret0, BPF_INSN_COUNT(ret0), "t_pwm", type, 0, 0);
    if (id < 0)
        return id;
    struct bpf_attr attr = {0};
    attr.attach_btf_id = type;
    attr.attach_prog_fd = (uint32_t)id;
    attr.key = key;
    attr.value = value;
    return bpf_cmd(BPF_PROG_ATTACH, &attr);
}

int main(void)
{
    printf("pwm_config(0, 25000) = %ld\n", pwm_config(0, 25000));
    printf("pwm_write(0, 1, 30) = %ld\n", pwm_write(0, 1, 30));
    printf("pwm_enable(0, 1, 1) = %ld\n", pwm_enable(0, 1, 1));
    printf("pwm_write(1, 2, 150) = %ld\n", pwm_write(1, 2, 150));
    printf("pwm_write(0, 3, 10) = %ld\n", pwm_write(0, 3, 10));
    printf("pwm_config(2, 1000) = %ld\n", pwm_config(2, 1000));
    printf("pwm_enable(0, 1, 0) = %ld\n", pwm_enable(0, 1, 0));
    printf("attach gpio 5 both = %ld\n", attach(BPF_ATTACH_GPIO, 5, 0));
    printf("attach pwm 0:1 = %ld\n", attach(BPF_ATTACH_PWM, 0, 1));
    return 0;
}
