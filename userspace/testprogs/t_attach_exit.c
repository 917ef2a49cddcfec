/* t_attach_exit: BPF programs stay attached after the process that attached them
 * exits (spec section 4). A child creates a one-entry array counter, loads a timer
 * program that increments it, attaches it and exits without detaching; the parent
 * waits for it, then reads the counter twice, 50 ms apart.
 *
 * Output (x86_64: 200 Hz, so 10 more ticks; AArch64: 100 Hz, 5 more ticks):
 *   child: attached program <p> counting into map <m>, exiting
 *   parent: child exited with status 0
 *   parent: counter grew by <10|5> in 50 ms after the child exited
 * Exit status 0 if the counter grew, 1 otherwise. */
#include "bpf_user.h"

static const struct bpf_insn prog[] = {
    BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),              /* 0: key = 0 */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),              /* 1 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),             /* 2: r2 = &key */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 3: r1 = map id (patched) */
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),         /* 4 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 3),             /* 5: if r0 == 0 goto 9 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_0, 0),      /* 6 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),              /* 7 */
    BPF_STX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0),      /* 8: (*value)++ */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 9 */
    BPF_EXIT_INSN(),                                   /* 10 */
};
static struct bpf_insn code[BPF_INSN_COUNT(prog)];

int main(void)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return 1;
    long pid = fork();
    if (pid == 0) {
        long map = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
        memcpy(code, prog, sizeof prog);
        code[3].imm = (int32_t)map;
        long id = bpf_prog_load(code, BPF_INSN_COUNT(code), "counter", BPF_ATTACH_TIMER, 0, 0);
        if (map < 0 || id < 0 || bpf_prog_attach(id, BPF_ATTACH_TIMER) < 0)
            exit(2);
        printf("child: attached program %ld counting into map %ld, exiting\n", id, map);
        write(pipefd[1], &map, sizeof map);
        exit(0);
    }
    long map = -1;
    int status = 0;
    waitpid(pid, &status, 0);
    read(pipefd[0], &map, sizeof map);
    printf("parent: child exited with status %d\n", (status >> 8) & 0xff);
    uint32_t zero = 0;
    uint64_t before = 0, after = 0;
    bpf_map_lookup(map, &zero, &before);
    sleep_ms(50);
    bpf_map_lookup(map, &zero, &after);
    printf("parent: counter grew by %lu in 50 ms after the child exited\n",
           (unsigned long)(after - before));
    return after > before ? 0 : 1;
}
