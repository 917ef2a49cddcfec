/* t_orig_export: the original's `sched_switch_export_demo` (dev branch): the
 * sched_switch program (ctx->data, 40 bytes to a ringbuf, no data_end check,
 * prog_type 1) is attached, the ringbuf is pinned at
 * /sys/fs/bpf/maps/sched_switch_events, and the process exits; hook and pin stay.
 *
 * Output: the original's text, ending with the two "Next step" lines. Exit 0; a
 * failing step prints FAILED and exits 1. */
#include "orig_demo.h"

#define PIN_PATH "/sys/fs/bpf/maps/sched_switch_events"

int main(void)
{
    orig_banner("Axiom sched_switch Export Demo", "Runtime attach + pinned object export");
    long rb = orig_create_ringbuf();
    struct bpf_insn prog[] = ORIG_SCHED_SWITCH_PROG((int32_t)rb);
    orig_load_and_attach(prog, BPF_INSN_COUNT(prog), "sched_switch", BPF_ATTACH_SCHED_SWITCH);
    print("OK\n[4/4] Pinning ringbuf map object... ");
    if (bpf_obj_pin(rb, PIN_PATH) != 0) {
        print("FAILED\n");
        exit(1);
    }
    print("OK\n\nNext step:\n"
          "  run /bin/sched_switch_bridge_demo to consume the pinned object\n"
          "  this process can now exit; hook and pinned map stay live in-kernel\n");
    return 0;
}
