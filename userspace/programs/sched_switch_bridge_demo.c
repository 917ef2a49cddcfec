/* sched_switch_bridge_demo: the consumer side of sched_switch_export_demo (which
 * spawns it). It finds the exporter's ringbuf by name (OBJ_GET "sched_events"),
 * checks that debug op 2 reports the same id and that OBJ_GET_INFO_BY_FD says
 * ringbuf/4096, reads its own pid from the pinned "sched_bridge_pid" array (there
 * is no getpid), forks a worker and lets both sleep in turn (3 x 10 ms each, the
 * worker 5 ms out of phase) so that context switches happen, then drains the
 * ringbuf: it prints the first 8 switches and checks that some of them switch to
 * and away from its own pid.
 *
 * Output (both architectures, spawned by the exporter on a fresh boot: init 1,
 * exporter 2, bridge 3, worker 4):
 *   [bridge] OBJ_GET "sched_events" -> map id 0; debug op 2 -> 0: same
 *   [bridge] map 0: type=27 key_size=0 value_size=0 max_entries=4096
 *   [bridge] my pid (from "sched_bridge_pid"): 3
 *   [bridge] worker pid 4 done
 *   [bridge] switch 2 -> 3
 *   [bridge] switch 3 -> 4
 *   [bridge] switch 4 -> 3
 *   [bridge] switch 3 -> 4
 *   [bridge] switch 4 -> 3
 *   [bridge] switch 3 -> 4
 *   [bridge] switch 4 -> 3
 *   [bridge] switch 3 -> 4
 *   [bridge] 9 switches, 5 to me, 4 away from me: OK
 * Run on its own (nothing pinned) it prints `[bridge] FAILED (error -43)` and
 * exits 1; any failed check prints `FAILED` and exits 1. Exit status 0. */
#include "bpf_user.h"

#define SHOW 8

struct event {
    uint64_t prev_pid;
    uint64_t next_pid;
};

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[bridge] FAILED (error %ld)\n", r);
    exit(1);
}

int main(void)
{
    long rb = bpf_obj_get("sched_events");
    check(rb);
    long exported = debug(DEBUG_GET_EXPORTED_RINGBUF, 0);
    printf("[bridge] OBJ_GET \"sched_events\" -> map id %ld; debug op 2 -> %ld: %s\n", rb,
           exported, exported == rb ? "same" : "DIFFERENT");
    if (exported != rb)
        return 1;

    struct bpf_obj_info info;
    check(bpf_obj_get_info(rb, &info, sizeof info));
    printf("[bridge] map %u: type=%u key_size=%u value_size=%u max_entries=%u\n", info.id,
           info.map_type, info.key_size, info.value_size, info.max_entries);
    if (info.id != rb || info.map_type != BPF_MAP_TYPE_RINGBUF)
        return 1;

    long pids = bpf_obj_get("sched_bridge_pid");
    check(pids);
    uint32_t key = 0;
    uint64_t me = 0;
    for (int tries = 0; me == 0 && tries < 10; tries++) {
        check(bpf_map_lookup(pids, &key, &me));
        if (me == 0)
            sleep_ms(1);
    }
    printf("[bridge] my pid (from \"sched_bridge_pid\"): %lu\n", (unsigned long)me);

    /* A process sleeping alone causes no SCHED_SWITCH events (the kernel reports a
     * switch only when a different process runs next; idle is not a process), so
     * run a worker alongside: it and this process take turns sleeping. */
    long worker = fork();
    check(worker);
    if (worker == 0) {
        for (int i = 0; i < 3; i++)
            sleep_ms(10);
        exit(0);
    }
    sleep_ms(5);
    for (int i = 0; i < 3; i++)
        sleep_ms(10);
    int status = 0;
    check(waitpid(worker, &status, 0));
    printf("[bridge] worker pid %ld done\n", worker);

    int n = 0, to_me = 0, from_me = 0;
    struct event ev;
    long r;
    while ((r = bpf_ringbuf_poll(rb, &ev, sizeof ev)) > 0) {
        if (n < SHOW)
            printf("[bridge] switch %lu -> %lu\n", (unsigned long)ev.prev_pid,
                   (unsigned long)ev.next_pid);
        n++;
        to_me += ev.next_pid == me;
        from_me += ev.prev_pid == me;
    }
    check(r);
    int ok = me != 0 && to_me > 0 && from_me > 0;
    printf("[bridge] %d switches, %d to me, %d away from me: %s\n", n, to_me, from_me,
           ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
