/* gpio_demo: the original's GPIO interactivity demo (Raspberry Pi 5, `--machine rpi5`).
 * A GPIO program attached to button GPIO 17 (rising edge) toggles the LED on GPIO 18
 * with gpio_read / gpio_write; the process then sleeps forever while the kernel
 * handles the button.
 *
 * Output:
 *   === GPIO Interactivity Demo ===
 *   Setting up BPF program for Button (GPIO 17) -> LED (GPIO 18)
 *   Loading BPF program...
 *   Program loaded. ID: <id>
 *   Attaching to GPIO 17 (Rising Edge)...
 *   Success! BPF program attached.
 *   Press the button on GPIO 17 to toggle LED on GPIO 18.
 *   Running indefinitely... (Press Ctrl-C to exit if running in emulator)
 * A failing load or attach prints `Error: Failed to load BPF program` /
 * `Error: Failed to attach BPF program` and exits 1.
 *
 * Unlike the original's program, which reads the payload's `line` at R1 + 12 (that
 * is the BpfContext, not the GpioEvent, so on the board it never matched), this one
 * reads it through ctx->data after a bounds check against ctx->data_end. */
#include "bpf_user.h"

#define BUTTON_PIN 17
#define LED_PIN 18

static struct bpf_insn prog[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),        /* 0: r6 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_1, 8),        /* 1: r7 = ctx->data_end */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_6),                 /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, 24),               /* 3: r2 = data + sizeof(GpioEvent) */
    BPF_JMP_REG(BPF_JGT, BPF_REG_2, BPF_REG_7, 10),      /* 4: too short -> exit */
    BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_6, 12),        /* 5: r2 = event->line */
    BPF_JMP_IMM(BPF_JNE, BPF_REG_2, BUTTON_PIN, 8),      /* 6: not the button -> exit */
    BPF_MOV64_IMM(BPF_REG_1, LED_PIN),                   /* 7 */
    BPF_CALL_HELPER(BPF_FUNC_gpio_read),                 /* 8: r0 = LED level */
    BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 2),               /* 9: lit -> turn off */
    BPF_MOV64_IMM(BPF_REG_2, 1),                         /* 10 */
    BPF_JMP_A(1),                                        /* 11 */
    BPF_MOV64_IMM(BPF_REG_2, 0),                         /* 12 */
    BPF_MOV64_IMM(BPF_REG_1, LED_PIN),                   /* 13 */
    BPF_CALL_HELPER(BPF_FUNC_gpio_write),                /* 14: gpio_write(18, r2) */
    BPF_MOV64_IMM(BPF_REG_0, 0),                         /* 15: exit */
    BPF_EXIT_INSN(),                                     /* 16 */
};

int main(void)
{
    print("=== GPIO Interactivity Demo ===\n");
    print("Setting up BPF program for Button (GPIO 17) -> LED (GPIO 18)\n");

    print("Loading BPF program...\n");
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "gpio_toggle", BPF_ATTACH_GPIO, 0, 0);
    if (id < 0) {
        print("Error: Failed to load BPF program\n");
        return 1;
    }
    printf("Program loaded. ID: %ld\n", id);

    print("Attaching to GPIO 17 (Rising Edge)...\n");
    struct bpf_attr attr = {0};
    attr.attach_btf_id = BPF_ATTACH_GPIO;
    attr.attach_prog_fd = (uint32_t)id;
    attr.key = BUTTON_PIN; /* pin */
    attr.value = 1;        /* 1 rising, 2 falling, 3 both */
    if (bpf_cmd(BPF_PROG_ATTACH, &attr) < 0) {
        print("Error: Failed to attach BPF program\n");
        return 1;
    }
    print("Success! BPF program attached.\n");
    print("Press the button on GPIO 17 to toggle LED on GPIO 18.\n");
    print("Running indefinitely... (Press Ctrl-C to exit if running in emulator)\n");
    for (;;)
        sleep_ms(1000);
}
