/* t_bpf_errors: every sys_bpf error path through real calls (spec sections 4-5,
 * deviations 5, 6 and 8). One line per case: `<case>: <result>` then `OK`, or
 * `WRONG (expected <e>)`; a verifier rejection also prints each line of the
 * verifier's log as `verifier log: <line>`.
 *
 * Output (identical on x86_64 and AArch64, fresh boot):
 *   short attr size (143): -27 OK
 *   misaligned attr: -27 OK
 *   unmapped attr: -20 OK
 *   unknown command 99: -27 OK
 *   MAP_CREATE unknown map type 42: -27 OK
 *   MAP_CREATE ringbuf of 1000 bytes (not a power of two): -27 OK
 *   MAP_LOOKUP_ELEM unknown map id 9999: -43 OK
 *   MAP_LOOKUP_ELEM missing hash key: -43 OK
 *   MAP_UPDATE_ELEM hash NOEXIST on an existing key: -19 OK
 *   MAP_UPDATE_ELEM hash EXIST on a missing key: -43 OK
 *   MAP_UPDATE_ELEM hash full (4 entries): -1 OK
 *   MAP_UPDATE_ELEM array index 1 of 1: -1 OK
 *   MAP_LOOKUP_ELEM unmapped value pointer: -20 OK
 *   MAP_DELETE_ELEM on an array: -27 OK
 *   MAP_GET_NEXT_KEY after the last key: -43 OK
 *   PROG_LOAD insn_cnt 0: -27 OK
 *   PROG_LOAD insn_cnt 5000: -1 OK
 *   PROG_LOAD unmapped insns: -20 OK
 *   PROG_LOAD exit without setting r0: -2 OK
 *   verifier log: 0: (95) exit
 *   verifier log: R1=ctx() R10=fp0
 *   verifier log: 0: R0 !read_ok
 *   verifier log: processed 1 insns (limit 1000000) max_states_per_insn 1 total_states 1 stack_depth 0
 *   PROG_LOAD read of uninitialised stack: -2 OK
 *   verifier log: 0: (79) r0 = *(u64 *)(r10 -8)
 *   verifier log: R1=ctx() R10=fp0
 *   verifier log: 0: invalid read from stack off -8+0 size 8
 *   verifier log: processed 1 insns (limit 1000000) max_states_per_insn 1 total_states 1 stack_depth 8
 *   PROG_LOAD map lookup without a null check: -2 OK
 *   verifier log: 0: (62) *(u32 *)(r10 -4) = 0
 *   verifier log: 1: (b7) r1 = 1
 *   verifier log: 2: (bf) r2 = r10
 *   verifier log: 3: (07) r2 += -4
 *   verifier log: 4: (85) call map_lookup_elem#5
 *   verifier log: 5: (79) r0 = *(u64 *)(r0 +0)
 *   verifier log: R0=map_value_or_null(id=2,map=1,ks=4,vs=8) R10=fp0 fp-8=????zzzz
 *   verifier log: 5: R0 invalid mem access 'map_value_or_null'
 *   verifier log: processed 6 insns (limit 1000000) max_states_per_insn 1 total_states 1 stack_depth 8
 *   PROG_ATTACH unknown program id 9999: -43 OK
 *   PROG_ATTACH unknown attach type 99: -27 OK
 *   PROG_DETACH not attached: -43 OK
 *   OBJ_GET_INFO_BY_FD info_len 16: -27 OK
 *   OBJ_GET_INFO_BY_FD with the 144-byte attr: -27 OK
 *   RINGBUF_POLL on an array map: -27 OK
 *   RINGBUF_POLL buffer too small: -50 OK
 *   RINGBUF_POLL after ENOSPC (record kept): 8 OK
 *   OBJ_GET missing name: -43 OK
 *   OBJ_PIN first time: 0 OK
 *   OBJ_PIN twice: -19 OK
 *   OBJ_PIN with the 144-byte attr: -27 OK
 *   t_bpf_errors: all 33 cases OK
 * Exit status 0 if every case matched, else 1 (last line `t_bpf_errors: <k> of
 * <n> cases WRONG`). */
#include "bpf_user.h"

static int cases, wrong;
static char log_buf[1024];

static void expect(const char *what, long got, long want)
{
    cases++;
    if (got == want) {
        printf("%s: %ld OK\n", what, got);
    } else {
        wrong++;
        printf("%s: %ld WRONG (expected %ld)\n", what, got, want);
    }
}

/* Prints the verifier log one line at a time. */
static void show_log(void)
{
    char *p = log_buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        printf("verifier log: %s\n", p);
        if (!nl)
            break;
        p = nl + 1;
    }
}

static void expect_rejected(const char *what, const struct bpf_insn *insns, int cnt)
{
    long r = bpf_prog_load(insns, cnt, "bad", BPF_ATTACH_TIMER, log_buf, sizeof log_buf);
    expect(what, r, -EACCES);
    if (r == -EACCES)
        show_log();
}

/* r0 never written. */
static const struct bpf_insn no_r0[] = {
    BPF_EXIT_INSN(),
};

/* Reads 8 bytes of stack nobody wrote. */
static const struct bpf_insn uninit_stack[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
    BPF_EXIT_INSN(),
};

/* Dereferences map_lookup_elem's result without checking it for NULL. */
#define ARRAY_SLOT 1
static struct bpf_insn no_null_check[] = {
    BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
    BPF_MOV64_IMM(BPF_REG_1, 0), /* array map id (patched) */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),
    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static const struct bpf_insn ok_prog[] = {
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

int main(void)
{
    static uint64_t raw[32]; /* 8-byte aligned scratch for hand-made attrs */
    struct bpf_attr attr;
    long r;

    /* Generic attr checks. */
    memset(&attr, 0, sizeof attr);
    expect("short attr size (143)", bpf(BPF_MAP_CREATE, &attr, BPF_ATTR_SIZE - 1), -EINVAL);
    memset(raw, 0, sizeof raw);
    expect("misaligned attr", bpf(BPF_MAP_CREATE, (char *)raw + 4, BPF_ATTR_SIZE), -EINVAL);
    expect("unmapped attr", bpf(BPF_MAP_CREATE, (void *)0x1000, BPF_ATTR_SIZE), -EFAULT);
    expect("unknown command 99", bpf(99, &attr, sizeof attr), -EINVAL);

    /* Maps. */
    expect("MAP_CREATE unknown map type 42", bpf_map_create(42, 4, 8, 1), -EINVAL);
    expect("MAP_CREATE ringbuf of 1000 bytes (not a power of two)",
           bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 1000), -EINVAL);
    uint64_t key = 7, value = 70, out = 0;
    expect("MAP_LOOKUP_ELEM unknown map id 9999", bpf_map_lookup(9999, &key, &out), -ENOENT);
    long hash = bpf_map_create(BPF_MAP_TYPE_HASH, 8, 8, 4);
    long array = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    long rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    if (hash < 0 || array < 0 || rb < 0) {
        printf("t_bpf_errors: map setup failed (%ld %ld %ld)\n", hash, array, rb);
        return 1;
    }
    expect("MAP_LOOKUP_ELEM missing hash key", bpf_map_lookup(hash, &key, &out), -ENOENT);
    bpf_map_update(hash, &key, &value, BPF_ANY);
    expect("MAP_UPDATE_ELEM hash NOEXIST on an existing key",
           bpf_map_update(hash, &key, &value, BPF_NOEXIST), -EEXIST);
    uint64_t missing = 8;
    expect("MAP_UPDATE_ELEM hash EXIST on a missing key",
           bpf_map_update(hash, &missing, &value, BPF_EXIST), -ENOENT);
    uint64_t more[3] = {8, 9, 10};
    for (int i = 0; i < 3; i++)
        bpf_map_update(hash, &more[i], &value, BPF_ANY);
    uint64_t fifth = 11;
    expect("MAP_UPDATE_ELEM hash full (4 entries)", bpf_map_update(hash, &fifth, &value, BPF_ANY),
           -E2BIG);
    uint32_t index = 1;
    expect("MAP_UPDATE_ELEM array index 1 of 1", bpf_map_update(array, &index, &value, BPF_ANY),
           -E2BIG);
    index = 0;
    expect("MAP_LOOKUP_ELEM unmapped value pointer", bpf_map_lookup(array, &index, (void *)0x1000),
           -EFAULT);
    expect("MAP_DELETE_ELEM on an array", bpf_map_delete(array, &index), -EINVAL);
    uint64_t next = 0;
    expect("MAP_GET_NEXT_KEY after the last key", bpf_map_get_next_key(hash, &more[2], &next),
           -ENOENT);

    /* Programs. */
    memset(&attr, 0, sizeof attr);
    attr.insns = (uint64_t)ok_prog;
    attr.insn_cnt = 0;
    expect("PROG_LOAD insn_cnt 0", bpf_cmd(BPF_PROG_LOAD, &attr), -EINVAL);
    attr.insn_cnt = 5000;
    expect("PROG_LOAD insn_cnt 5000", bpf_cmd(BPF_PROG_LOAD, &attr), -E2BIG);
    attr.insn_cnt = 2;
    attr.insns = 0x1000;
    expect("PROG_LOAD unmapped insns", bpf_cmd(BPF_PROG_LOAD, &attr), -EFAULT);
    expect_rejected("PROG_LOAD exit without setting r0", no_r0, BPF_INSN_COUNT(no_r0));
    expect_rejected("PROG_LOAD read of uninitialised stack", uninit_stack,
                    BPF_INSN_COUNT(uninit_stack));
    no_null_check[ARRAY_SLOT].imm = (int32_t)array;
    expect_rejected("PROG_LOAD map lookup without a null check", no_null_check,
                    BPF_INSN_COUNT(no_null_check));

    long prog = bpf_prog_load(ok_prog, BPF_INSN_COUNT(ok_prog), "ok", 0, NULL, 0);
    if (prog < 0) {
        printf("t_bpf_errors: PROG_LOAD of a valid program failed (%ld)\n", prog);
        return 1;
    }
    expect("PROG_ATTACH unknown program id 9999", bpf_prog_attach(9999, BPF_ATTACH_TIMER),
           -ENOENT);
    expect("PROG_ATTACH unknown attach type 99", bpf_prog_attach(prog, 99), -EINVAL);
    expect("PROG_DETACH not attached", bpf_prog_detach(prog, BPF_ATTACH_TIMER), -ENOENT);

    /* Info, ringbuf poll. */
    struct bpf_obj_info info;
    expect("OBJ_GET_INFO_BY_FD info_len 16", bpf_obj_get_info(array, &info, 16), -EINVAL);
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)array;
    expect("OBJ_GET_INFO_BY_FD with the 144-byte attr", bpf_cmd(BPF_OBJ_GET_INFO_BY_FD, &attr),
           -EINVAL);
    expect("RINGBUF_POLL on an array map", bpf_ringbuf_poll(array, &out, sizeof out), -EINVAL);

    /* A record of 8 bytes, produced by a program run on the next syscall. */
    static struct bpf_insn producer[] = {
        BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0x1234),
        BPF_MOV64_IMM(BPF_REG_1, 0), /* ringbuf id (patched) */
        BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
        BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8),
        BPF_MOV64_IMM(BPF_REG_3, 8),
        BPF_MOV64_IMM(BPF_REG_4, 0),
        BPF_CALL_HELPER(BPF_FUNC_ringbuf_output),
        BPF_MOV64_IMM(BPF_REG_0, 0),
        BPF_EXIT_INSN(),
    };
    producer[1].imm = (int32_t)rb;
    long p2 = bpf_prog_load(producer, BPF_INSN_COUNT(producer), "producer", BPF_ATTACH_SYS_EXIT,
                            log_buf, sizeof log_buf);
    if (p2 < 0 || bpf_prog_attach(p2, BPF_ATTACH_SYS_EXIT) < 0) {
        printf("t_bpf_errors: producer setup failed (%ld)\n", p2);
        return 1;
    }
    bpf_prog_detach(p2, BPF_ATTACH_SYS_EXIT); /* the attach call's own exit produced one */
    uint32_t small = 0;
    expect("RINGBUF_POLL buffer too small", bpf_ringbuf_poll(rb, &small, sizeof small), -ENOSPC);
    r = bpf_ringbuf_poll(rb, &out, sizeof out);
    expect("RINGBUF_POLL after ENOSPC (record kept)", r, 8);

    /* Pins. */
    expect("OBJ_GET missing name", bpf_obj_get("t_bpf_errors_missing"), -ENOENT);
    expect("OBJ_PIN first time", bpf_obj_pin(array, "t_bpf_errors_pin"), 0);
    expect("OBJ_PIN twice", bpf_obj_pin(array, "t_bpf_errors_pin"), -EEXIST);
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)array;
    expect("OBJ_PIN with the 144-byte attr", bpf_cmd(BPF_OBJ_PIN, &attr), -EINVAL);

    if (wrong) {
        printf("t_bpf_errors: %d of %d cases WRONG\n", wrong, cases);
        return 1;
    }
    printf("t_bpf_errors: all %d cases OK\n", cases);
    return 0;
}
