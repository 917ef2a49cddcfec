/* t_orig_sched_switch: the original's `sched_switch_demo` (dev branch). The
 * SCHED_SWITCH program passes ctx->data with size 40 straight to ringbuf_output (no
 * data_end check; prog_type 1, no expected_attach_type: a 40-byte payload
 * requirement checked at PROG_ATTACH). Launches fork_test, fork_test, syscall_demo
 * (50/50/150 ms apart) and prints up to 12 switches.
 *
 * Output: the original's text ("  Event #k: cpu=0 prev(pid=a, tid=a) -> next(pid=b,
 * tid=b)"), ending "Pipeline proven: runtime attach -> sched_switch -> ringbuf ->
 * userspace". Exit 0; 1 on a failing step, 2 if no event arrived. */
#include "orig_demo.h"

int main(void)
{
    orig_banner("Axiom sched_switch Hook Demo", "Live scheduler hook -> ringbuf -> userspace");
    long rb = orig_create_ringbuf();
    struct bpf_insn prog[] = ORIG_SCHED_SWITCH_PROG((int32_t)rb);
    orig_load_and_attach(prog, BPF_INSN_COUNT(prog), "sched_switch", BPF_ATTACH_SCHED_SWITCH);
    print("OK\n[4/4] Launching workload, then collecting scheduler events...\n");
    orig_launch("/bin/fork_test");
    sleep_ms(50);
    orig_launch("/bin/fork_test");
    sleep_ms(50);
    orig_launch("/bin/syscall_demo");
    sleep_ms(150);
    print("\nCollecting sched_switch events...\n");
    if (orig_poll_switches(rb, "Event #", 12, 120, 25) == 0) {
        print("No sched_switch events received before timeout.\n");
        exit(2);
    }
    print("Pipeline proven: runtime attach -> sched_switch -> ringbuf -> userspace\n");
    return 0;
}
