/* safety_demo: the original's safety interlock demo (Raspberry Pi 5, `--machine rpi5`).
 * A timer program keeps PWM0 channel 1 at 50% (the motor); an E-Stop program on the
 * limit switch, GPIO 22 rising edge, calls motor_emergency_stop(1) and trace_printk.
 * Then the process exits: the programs stay in the kernel.
 *
 * Output (exact): see the prints below; on a fresh boot the ids are 0 and 1. When the
 * switch closes, the kernel log (with `loglevel=info`) shows
 * `EMERGENCY STOP TRIGGERED! Reason: 1` at ERROR and `[BPF] SAFETY: Motor stop!`,
 * and the PWM device reports duty 0. The message is the one the original's program
 * really builds on its stack (its comments say "Motor stopped!", its bytes say
 * "Motor stop!", and so does its own console text). */
#include "bpf_user.h"

#define LIMIT_SWITCH_PIN 22
#define MOTOR_DUTY 50

static const struct bpf_insn motor[] = {
    BPF_MOV64_IMM(BPF_REG_1, 0),          /* PWM chip 0 */
    BPF_MOV64_IMM(BPF_REG_2, 1),          /* channel 1 */
    BPF_MOV64_IMM(BPF_REG_3, MOTOR_DUTY), /* 50 % */
    BPF_CALL_HELPER(BPF_FUNC_pwm_write),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

#define ST_B(off, c) BPF_ST_MEM(BPF_B, BPF_REG_10, off, c)

static const struct bpf_insn estop[] = {
    BPF_MOV64_IMM(BPF_REG_1, 1), /* reason 1: limit switch */
    BPF_CALL_HELPER(BPF_FUNC_motor_emergency_stop),
    ST_B(-24, 'S'), ST_B(-23, 'A'), ST_B(-22, 'F'), ST_B(-21, 'E'), ST_B(-20, 'T'),
    ST_B(-19, 'Y'), ST_B(-18, ':'), ST_B(-17, ' '), ST_B(-16, 'M'), ST_B(-15, 'o'),
    ST_B(-14, 't'), ST_B(-13, 'o'), ST_B(-12, 'r'), ST_B(-11, ' '), ST_B(-10, 's'),
    ST_B(-9, 't'), ST_B(-8, 'o'), ST_B(-7, 'p'), ST_B(-6, '!'), ST_B(-5, 0),
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -24),
    BPF_MOV64_IMM(BPF_REG_2, 20),
    BPF_CALL_HELPER(BPF_FUNC_trace_printk),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

/* As the original loads both: prog_type 1, no name, no expected_attach_type. */
static long load(const struct bpf_insn *insns, int cnt)
{
    struct bpf_attr attr = {0};
    attr.prog_type = 1;
    attr.insn_cnt = (uint32_t)cnt;
    attr.insns = (uint64_t)insns;
    return bpf_cmd(BPF_PROG_LOAD, &attr);
}

int main(void)
{
    print("\n");
    print("========================================\n");
    print("  Axiom Safety Interlock Demo\n");
    print("========================================\n");
    print("\n");
    print("This demo proves: kernel-level BPF safety interlocks\n");
    print("survive userspace exit. The interrupt -> BPF -> hardware\n");
    print("path has ZERO userspace dependency.\n");
    print("\n");

    print("[1/4] Starting motor (PWM0 Ch1 @ 50% duty)...\n");
    long motor_id = load(motor, BPF_INSN_COUNT(motor));
    if (motor_id < 0) {
        print("  ERROR: Failed to load motor program\n");
        return 1;
    }
    printf("  Motor program loaded (ID: %ld)\n", motor_id);
    if (bpf_prog_attach(motor_id, BPF_ATTACH_TIMER) < 0) {
        print("  ERROR: Failed to attach motor to timer\n");
        return 1;
    }
    print("  Motor running on timer hook. PWM active.\n\n");

    print("[2/4] Loading E-Stop BPF program...\n");
    long estop_id = load(estop, BPF_INSN_COUNT(estop));
    if (estop_id < 0) {
        print("  ERROR: Failed to load E-Stop program\n");
        return 1;
    }
    printf("  E-Stop program loaded (ID: %ld)\n", estop_id);
    print("  Actions: bpf_motor_emergency_stop + bpf_trace_printk\n\n");

    printf("[3/4] Attaching E-Stop to GPIO %d (rising edge)...\n", LIMIT_SWITCH_PIN);
    struct bpf_attr attr = {0};
    attr.attach_btf_id = BPF_ATTACH_GPIO;
    attr.attach_prog_fd = (uint32_t)estop_id;
    attr.key = LIMIT_SWITCH_PIN; /* pin */
    attr.value = 1;              /* rising edge */
    if (bpf_cmd(BPF_PROG_ATTACH, &attr) < 0) {
        print("  ERROR: Failed to attach E-Stop to GPIO\n");
        return 1;
    }
    print("  E-Stop attached. GPIO interrupt armed.\n\n");

    print("[4/4] Safety interlock ARMED.\n");
    print("\n");
    print("  Motor:     PWM0 Ch1 @ 50% (via timer BPF hook)\n");
    printf("  E-Stop:    GPIO %d rising edge -> bpf_motor_emergency_stop\n", LIMIT_SWITCH_PIN);
    print("  Trace:     Kernel log will show 'SAFETY: Motor stop!'\n");
    print("\n");
    print("  >> Userspace will now EXIT. <<\n");
    print("  >> Safety interlock remains active in the kernel. <<\n");
    printf("  >> Trigger limit switch on GPIO %d to stop motor. <<\n", LIMIT_SWITCH_PIN);
    print("\n");
    print("========================================\n");
    print("  Exiting userspace. BPF persists.\n");
    print("========================================\n");
    return 0;
}
