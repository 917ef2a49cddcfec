/* t_orig_sys_exit: the original's `sys_exit_demo` (dev branch). A SYS_EXIT program
 * reads syscall_nr at payload offset 0 and hands the whole 16-byte payload to
 * ringbuf_output, skipping write (37) and bpf (50); neither access is guarded by
 * data_end. Loaded with prog_type 1 and no expected_attach_type, so the verifier
 * records a 16-byte payload requirement that PROG_ATTACH checks against SYS_EXIT.
 * Then getcwd, dup, close, close(999), pipe and two closes trigger events.
 *
 * Output: the original's text; "getcwd returned <n>" is the buffer address as an
 * i32 (the original's print); events are "  Event #k: SYS_<NAME> (<nr>) result=<r>
 * raw=<32 hex digits>"; ends "Pipeline proven: runtime attach -> sys_exit -> ringbuf
 * -> userspace". Exit 0; 1 on a failing step, 2 if no event arrived. */
#include "orig_demo.h"

#define RB_SLOT 5

static struct bpf_insn prog[] = {
    BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),               /* 0 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 0),      /* 1: r6 = ctx->data */
    BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_6, 0),      /* 2: r7 = syscall_nr, unchecked */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_7, SYS_WRITE, 6),     /* 3 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_7, SYS_BPF, 5),       /* 4 */
    BPF_MOV64_IMM(BPF_REG_1, 0),                       /* 5: ringbuf id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_6),               /* 6 */
    BPF_MOV64_IMM(BPF_REG_3, 16),                      /* 7 */
    BPF_MOV64_IMM(BPF_REG_4, 0),                       /* 8 */
    BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),          /* 9 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 10 */
    BPF_MOV64_IMM(BPF_REG_0, 0),                       /* 11 */
    BPF_EXIT_INSN(),                                   /* 12 */
};

static const char *syscall_name(uint64_t nr)
{
    switch (nr) {
    case SYS_GETCWD: return "SYS_GETCWD";
    case SYS_DUP: return "SYS_DUP";
    case SYS_CLOSE: return "SYS_CLOSE";
    case SYS_PIPE: return "SYS_PIPE";
    case SYS_NANOSLEEP: return "SYS_NANOSLEEP";
    default: return "<unknown>";
    }
}

int main(void)
{
    orig_banner("Axiom sys_exit Hook Demo", "Live hook -> ringbuf -> userspace");
    long rb = orig_create_ringbuf();
    prog[RB_SLOT].imm = (int32_t)rb;
    orig_load_and_attach(prog, BPF_INSN_COUNT(prog), "sys_exit", BPF_ATTACH_SYS_EXIT);
    print("OK\n[4/4] Triggering syscalls and polling events...\n");
    char cwd[64];
    printf("  getcwd returned %d\n", (int)getcwd(cwd, sizeof cwd));
    long d = dup(1);
    printf("  dup(1) returned %d\n", (int)d);
    if (d >= 0)
        close((int)d);
    printf("  close(999) returned %d\n", (int)close(999));
    int fds[2] = {0, 0};
    long p = pipe(fds);
    printf("  pipe() returned %d\n", (int)p);
    if (p == 0) {
        close(fds[0]);
        close(fds[1]);
    }
    uint8_t buf[32];
    unsigned seen = 0, polls = 0;
    while (polls < 100 && seen < 8) {
        polls++;
        long n = bpf_ringbuf_poll(rb, buf, sizeof buf);
        if (n >= 16) {
            uint64_t nr;
            int64_t result;
            memcpy(&nr, buf, 8);
            memcpy(&result, buf + 8, 8);
            printf("  Event #%u: %s (%lu) result=%ld raw=", ++seen, syscall_name(nr),
                   (unsigned long)nr, (long)result);
            for (int i = 0; i < 16; i++)
                printf("%02x", buf[i]);
            print("\n");
        } else if (n < 0) {
            print("  ringbuf poll failed\n");
            exit(1);
        } else {
            sleep_ms(50);
        }
    }
    printf("\nPoll summary: polls=%u events=%u\n", polls, seen);
    if (seen == 0) {
        print("No sys_exit events received before timeout.\n");
        exit(2);
    }
    print("Pipeline proven: runtime attach -> sys_exit -> ringbuf -> userspace\n");
    return 0;
}
