/* t_orig_safety: what the original's `safety_demo` does, step by step: a TIMER
 * program drives PWM0 channel 1 at 50% (helper 1005), an E-Stop program (helper 1000
 * then trace_printk of "SAFETY: Motor stop!") is attached to GPIO 22, rising edge
 * (attr.key = pin, attr.value = edge), and the process exits leaving both attached.
 * Both load with prog_type 1 and no expected_attach_type. GPIO attach succeeds on
 * every board (the program just never fires without GPIO hardware).
 *
 * Output: the original's console text, ending
 *   ========================================
 *     Exiting userspace. BPF persists.
 *   ========================================
 * Exit status 0; a failing step prints "  ERROR: ..." and exits 1. */
#include "bpf_user.h"

#define PIN 22

static const struct bpf_insn motor[] = {
    BPF_MOV64_IMM(BPF_REG_1, 0),
    BPF_MOV64_IMM(BPF_REG_2, 1),
    BPF_MOV64_IMM(BPF_REG_3, 50),
    BPF_CALL_HELPER(BPF_FUNC_pwm_write),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

#define STB(off, c) BPF_ST_MEM(BPF_B, BPF_REG_10, off, c)
static const struct bpf_insn estop[] = {
    BPF_MOV64_IMM(BPF_REG_1, 1),
    BPF_CALL_HELPER(BPF_FUNC_motor_emergency_stop),
    STB(-24, 'S'), STB(-23, 'A'), STB(-22, 'F'), STB(-21, 'E'), STB(-20, 'T'),
    STB(-19, 'Y'), STB(-18, ':'), STB(-17, ' '), STB(-16, 'M'), STB(-15, 'o'),
    STB(-14, 't'), STB(-13, 'o'), STB(-12, 'r'), STB(-11, ' '), STB(-10, 's'),
    STB(-9, 't'), STB(-8, 'o'), STB(-7, 'p'), STB(-6, '!'), STB(-5, 0),
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -24),
    BPF_MOV64_IMM(BPF_REG_2, 20),
    BPF_CALL_HELPER(BPF_FUNC_trace_printk),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static long load(const struct bpf_insn *insns, int cnt)
{
    struct bpf_attr attr = {0};
    attr.prog_type = 1;
    attr.insn_cnt = (uint32_t)cnt;
    attr.insns = (uint64_t)insns;
    return bpf_cmd(BPF_PROG_LOAD, &attr);
}

static long attach(long id, uint32_t type, uint64_t key, uint64_t value)
{
    struct bpf_attr attr = {0};
    attr.attach_btf_id = type;
    attr.attach_prog_fd = (uint32_t)id;
    attr.key = key;
    attr.value = value;
    return bpf_cmd(BPF_PROG_ATTACH, &attr);
}

int main(void)
{
    print("\n========================================\n"
          "  Axiom Safety Interlock Demo\n"
          "========================================\n\n"
          "This demo proves: kernel-level BPF safety interlocks\n"
          "survive userspace exit. The interrupt -> BPF -> hardware\n"
          "path has ZERO userspace dependency.\n\n");
    print("[1/4] Starting motor (PWM0 Ch1 @ 50% duty)...\n");
    long motor_id = load(motor, BPF_INSN_COUNT(motor));
    if (motor_id < 0) {
        print("  ERROR: Failed to load motor program\n");
        exit(1);
    }
    printf("  Motor program loaded (ID: %ld)\n", motor_id);
    if (attach(motor_id, BPF_ATTACH_TIMER, 0, 0) < 0) {
        print("  ERROR: Failed to attach motor to timer\n");
        exit(1);
    }
    print("  Motor running on timer hook. PWM active.\n\n");
    print("[2/4] Loading E-Stop BPF program...\n");
    long estop_id = load(estop, BPF_INSN_COUNT(estop));
    if (estop_id < 0) {
        print("  ERROR: Failed to load E-Stop program\n");
        exit(1);
    }
    printf("  E-Stop program loaded (ID: %ld)\n", estop_id);
    print("  Actions: bpf_motor_emergency_stop + bpf_trace_printk\n\n");
    printf("[3/4] Attaching E-Stop to GPIO %d (rising edge)...\n", PIN);
    if (attach(estop_id, BPF_ATTACH_GPIO, PIN, 1) < 0) {
        print("  ERROR: Failed to attach E-Stop to GPIO\n");
        exit(1);
    }
    print("  E-Stop attached. GPIO interrupt armed.\n\n");
    print("[4/4] Safety interlock ARMED.\n\n");
    print("  Motor:     PWM0 Ch1 @ 50% (via timer BPF hook)\n");
    printf("  E-Stop:    GPIO %d rising edge -> bpf_motor_emergency_stop\n", PIN);
    print("  Trace:     Kernel log will show 'SAFETY: Motor stop!'\n\n");
    print("  >> Userspace will now EXIT. <<\n");
    print("  >> Safety interlock remains active in the kernel. <<\n");
    printf("  >> Trigger limit switch on GPIO %d to stop motor. <<\n\n", PIN);
    print("========================================\n"
          "  Exiting userspace. BPF persists.\n"
          "========================================\n");
    return 0;
}
