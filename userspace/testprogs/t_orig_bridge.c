/* t_orig_bridge: the original's `sched_switch_bridge_demo` (dev branch): opens the
 * ringbuf t_orig_export pinned (OBJ_GET), launches fork_test, fork_test,
 * syscall_demo and prints up to 12 SCHED_SWITCH records from it.
 *
 * Output: the original's text, ending "Pipeline proven: runtime attach ->
 * sched_switch -> pinned object -> bridge consumer". Exit 0; 1 if nothing is pinned
 * or a step fails, 2 if no event arrived. */
#include "orig_demo.h"

#define PIN_PATH "/sys/fs/bpf/maps/sched_switch_events"

int main(void)
{
    orig_banner("Axiom sched_switch Bridge Demo",
                "pinned-object consumer -> live scheduler events");
    print("[1/3] Opening pinned ringbuf object... ");
    long rb = bpf_obj_get(PIN_PATH);
    if (rb < 0) {
        print("FAILED\n  run /bin/sched_switch_export_demo first\n");
        exit(1);
    }
    printf("OK (id=%ld)\n", rb);
    print("[2/3] Launching scheduler workload...\n");
    orig_launch("/bin/fork_test");
    sleep_ms(50);
    orig_launch("/bin/fork_test");
    sleep_ms(50);
    orig_launch("/bin/syscall_demo");
    sleep_ms(150);
    print("[3/3] Polling ringbuf and printing bridge output...\n");
    if (orig_poll_switches(rb, "SCHED_SWITCH #", 12, 120, 25) == 0) {
        print("No sched_switch events received before timeout.\n");
        exit(2);
    }
    print("Pipeline proven: runtime attach -> sched_switch -> pinned object -> bridge "
          "consumer\n");
    return 0;
}
