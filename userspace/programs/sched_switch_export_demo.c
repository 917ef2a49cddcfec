/* sched_switch_export_demo: exports a SCHED_SWITCH event stream to another
 * process. It creates a 4096-byte ringbuf and a one-entry array map, attaches a
 * SCHED_SWITCH program that writes {u64 prev_pid, u64 next_pid} (16 bytes) per
 * context switch, pins the ringbuf as "sched_events" and the array as
 * "sched_bridge_pid" (OBJ_PIN), publishes the ringbuf id with debug op 1, spawns
 * /bin/sched_switch_bridge_demo, stores the bridge's pid in the array (the bridge
 * has no getpid) and waits for it. The program would survive this process's exit
 * (spec section 4); it is detached at the very end to leave the system clean.
 *
 * Output (both architectures, run by init on a fresh boot, so this is pid 2):
 *   [export] ringbuf id=0 pinned as "sched_events", pid map id=1 pinned as "sched_bridge_pid"
 *   [export] SCHED_SWITCH program id=0 (17 insns) attached; exported ringbuf id=0
 *   [export] spawned /bin/sched_switch_bridge_demo pid=3
 *   ... the bridge's 14 lines (see sched_switch_bridge_demo.c) ...
 *   [export] bridge exited with status 0; detached
 * A failing step prints `[export] FAILED (error <n>)`; exit 1. Exit status: the
 * bridge's exit code. */
#include "bpf_user.h"

#define RB_SLOT 9
#define BRIDGE "/bin/sched_switch_bridge_demo"

static struct bpf_insn prog[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 0),      /* 0: r2 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_1, 8),      /* 1: r3 = ctx->data_end */
    BPF_MOV64_REG(BPF_REG_4, BPF_REG_2),               /* 2 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, 40),             /* 3 */
    BPF_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 10),    /* 4: if data + 40 > data_end goto 15 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_2, 8),      /* 5: r6 = prev_pid */
    BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_2, 24),     /* 6: r7 = next_pid */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -16),   /* 7: event.prev */
    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_7, -8),    /* 8: event.next */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 9: r1 = ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 10 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -16),            /* 11: r2 = &event */
    BPF_MOV64_IMM(BPF_REG_3, 16),                      /* 12 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                       /* 13 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),          /* 14 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 15 */
    BPF_EXIT_INSN(),                                   /* 16 */
};

static char log_buf[512];

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[export] FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("[export] verifier: %s\n", log_buf);
    exit(1);
}

int main(void)
{
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    check(rb);
    long pids = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    check(pids);
    check(bpf_obj_pin(rb, "sched_events"));
    check(bpf_obj_pin(pids, "sched_bridge_pid"));
    printf("[export] ringbuf id=%ld pinned as \"sched_events\", pid map id=%ld pinned as "
           "\"sched_bridge_pid\"\n", rb, pids);

    prog[RB_SLOT].imm = (int32_t)rb;
    long id = bpf_prog_load(prog, BPF_INSN_COUNT(prog), "sched_export", BPF_ATTACH_SCHED_SWITCH,
                            log_buf, sizeof log_buf);
    check(id);
    check(bpf_prog_attach(id, BPF_ATTACH_SCHED_SWITCH));
    check(debug(DEBUG_SET_EXPORTED_RINGBUF, rb));
    printf("[export] SCHED_SWITCH program id=%ld (%d insns) attached; exported ringbuf id=%ld\n",
           id, BPF_INSN_COUNT(prog), debug(DEBUG_GET_EXPORTED_RINGBUF, 0));

    long child = spawn(BRIDGE, strlen(BRIDGE));
    check(child);
    uint32_t key = 0;
    uint64_t pid = (uint64_t)child;
    check(bpf_map_update(pids, &key, &pid, BPF_ANY));
    printf("[export] spawned %s pid=%ld\n", BRIDGE, child);

    int status = 0;
    check(waitpid(child, &status, 0));
    check(bpf_prog_detach(id, BPF_ATTACH_SCHED_SWITCH));
    int code = (status >> 8) & 0xff;
    printf("[export] bridge exited with status %d; detached\n", code);
    return code;
}
