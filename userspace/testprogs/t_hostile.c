/* t_hostile: guest input that used to panic the kernel model, hang it, or make the
 * host allocate without bound. Every line is `<check>: <result>` with raw kernel
 * results (-errno as a negative number); the boot test compares each with the
 * errno the README's "Limits" section documents.
 *
 * Modes (argv[1], passed on by init: `--append "/bin/t_hostile MODE"`):
 *   all      (default) the checks below, with a SYS_EXIT program attached throughout
 *   restart  SYS_ENTER and SYS_EXIT counters around three blocking nanosleeps:
 *            "restart: enter-exit grew by 0 ..." (a restarted syscall is not a new one)
 *   jump0    call through a null function pointer: the kernel must kill the process
 *            with a fetch fault at 0x0 (also with --clock host)
 * Exit status 0 (jump0: killed, 139). */
#include "bpf_user.h"

#define MiB (1L << 20)

static const struct bpf_insn ret0[] = {
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_EXIT_INSN(),
};

static const struct bpf_insn count_prog[] = {
    BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),         /* key = 0 */
    BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),         /* 1 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),        /* 2: r2 = &key */
    BPF_MOV64_IMM(BPF_REG_1, 0),                  /* 3: r1 = map id (patched) */
    BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),    /* 4 */
    BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 3),        /* 5 */
    BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_0, 0), /* 6 */
    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),         /* 7 */
    BPF_STX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0), /* 8: (*value)++ */
    BPF_MOV64_IMM(BPF_REG_0, 0),                  /* 9 */
    BPF_EXIT_INSN(),                              /* 10 */
};

/* ---------------------------------------------------------------- tmpfs and lseek */

static void tmpfs_checks(void)
{
    long fd = open_path("/tmp/big", O_CREAT | O_RDWR);
    printf("tmpfs open: %ld\n", fd < 0 ? fd : 0);
    printf("tmpfs lseek 2^40: %ld\n", lseek(fd, 1L << 40, SEEK_SET));
    printf("tmpfs lseek 2^32: %ld\n", lseek(fd, 1L << 32, SEEK_SET));
    printf("tmpfs lseek 1G: %ld\n", lseek(fd, 1L << 30, SEEK_SET));
    printf("tmpfs write past 1G: %ld\n", write(fd, "x", 1));
    lseek(fd, 200 * MiB, SEEK_SET);
    printf("tmpfs write at 200M: %ld\n", write(fd, "x", 1));
    lseek(fd, 1 * MiB, SEEK_SET);
    printf("tmpfs write at 1M: %ld\n", write(fd, "x", 1));
    struct stat st;
    fstat(fd, &st);
    printf("tmpfs size: %ld\n", (long)st.st_size);
    void *p = malloc(4 * MiB);
    printf("malloc after refused writes: %s\n", is_err(p) ? "failed" : "ok");
    if (!is_err(p))
        free(p);
    close(fd);

    long ro = open_path("/var/hello.txt", O_RDONLY);
    printf("lseek 2^63-1: %d\n", lseek(ro, 0x7fffffffffffffffL, SEEK_SET) == 0x7fffffffffffffffL);
    printf("lseek +1 past 2^63-1: %ld\n", lseek(ro, 1, SEEK_CUR));
    close(ro);
}

/* ---------------------------------------------------------------- debug */

static void debug_checks(void)
{
    printf("debug set 2^63: %ld\n", debug(1, (long)(1UL << 63)));
    printf("debug set 2^32: %ld\n", debug(1, 1L << 32));
    printf("debug set 7: %ld\n", debug(1, 7));
    printf("debug get: %ld\n", debug(2, 0));
}

/* ---------------------------------------------------------------- ELF loader */

struct elf_file {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
    uint32_t p_type, p_flags;
    uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
    uint8_t code[16];
};

static long spawn_elf(const char *what, uint64_t phoff, uint64_t offset, uint64_t filesz,
                      uint64_t memsz)
{
    static struct elf_file elf;
    memset(&elf, 0, sizeof elf);
    memcpy(elf.ident, "\x7f" "ELF\x02\x01\x01", 7);
    elf.type = 2;
#ifdef __x86_64__
    elf.machine = 62;
#else
    elf.machine = 183;
#endif
    elf.version = 1;
    elf.entry = 0x400000;
    elf.phoff = phoff;
    elf.ehsize = 64;
    elf.phentsize = 56;
    elf.phnum = 1;
    elf.p_type = 1;
    elf.p_flags = 5;
    elf.p_offset = offset;
    elf.p_vaddr = elf.p_paddr = 0x400000;
    elf.p_filesz = filesz;
    elf.p_memsz = memsz;
    elf.p_align = 0x1000;
    long fd = open_path("/tmp/evil", O_CREAT | O_RDWR | O_TRUNC);
    write(fd, &elf, sizeof elf);
    close(fd);
    long pid = spawn("/tmp/evil", 9);
    printf("elf %s: %ld\n", what, pid);
    if (pid > 0)
        waitpid(pid, 0, 0);
    return pid;
}

static void elf_checks(void)
{
    spawn_elf("p_offset 2^64-1", 64, ~0UL, 16, 16);
    spawn_elf("p_memsz 2^40", 64, 0, 0, 1UL << 40);
    spawn_elf("e_phoff 2^64-1", ~0UL, 0, 16, 16);
    spawn_elf("p_filesz 2^62", 64, 0, 1UL << 62, 1UL << 62);
    spawn_elf("vaddr+memsz wraps", 64, 0, 0, ~0UL - 0x1000);
}

/* ---------------------------------------------------------------- mmap and writev */

static void memory_checks(void)
{
    uint8_t *p = malloc(8192);
    memset(p, 0x5a, 8192);
    void *r = mmap(p, 200 * MiB, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    printf("mmap fixed 200M over malloc: %ld\n", (long)r);
    printf("old memory intact: %d\n", p[0] == 0x5a && p[8191] == 0x5a);
    printf("free old block: %ld\n", free(p));

    static void *blocks[1100];
    long count = 0;
    void *q = 0;
    while (count < 1100 && !is_err(q = malloc(16)))
        blocks[count++] = q;
    printf("malloc 16 bytes until refused: %ld after more than 1000: %d\n", (long)q,
           count > 1000);
    while (count > 0)
        free(blocks[--count]);
    q = malloc(16);
    printf("malloc after freeing: %s\n", is_err(q) ? "failed" : "ok");
    free(q);

    static struct iovec iov[1024];
    uint8_t *buf = malloc(MiB);
    for (int i = 0; i < 1024; i++) {
        iov[i].iov_base = buf;
        iov[i].iov_len = MiB;
    }
    printf("writev 1024 x 1M: %ld\n", writev(NULL_FD, iov, 1024));
    iov[0].iov_len = 16;
    iov[1].iov_base = (void *)0x10;
    printf("writev bad second pointer: %ld\n", writev(NULL_FD, iov, 2));
    free(buf);
}

/* ---------------------------------------------------------------- BPF objects */

static void bpf_checks(long exit_prog)
{
    uint32_t kind = 0;
    printf("pin prog: %ld\n", bpf_obj_pin_kind(exit_prog, BPF_OBJ_KIND_PROG, "hostile/exit"));
    long got = bpf_obj_get_kind("hostile/exit", &kind);
    printf("get prog pin: id=%ld kind=%u\n", got, kind);
    struct bpf_prog_info info = {0};
    long n = bpf_prog_get_info(exit_prog, &info);
    printf("prog info: %ld id=%u kind=%u attach_type=%u insn_cnt=%u attached=0x%x ran=%d\n", n,
           info.id, info.kind, info.attach_type, info.insn_cnt, info.attached, info.run_cnt > 0);
    printf("pin bad kind: %ld\n", bpf_obj_pin_kind(exit_prog, 9, "hostile/bad"));

    long big = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 1, 1 << 26);
    printf("array 2^26 x 1: %s\n", big >= 0 ? "created" : "refused");
    if (big >= 0) {
        uint32_t key = (1 << 26) - 1;
        uint8_t one = 1, back = 0;
        bpf_map_update(big, &key, &one, 0);
        bpf_map_lookup(big, &key, &back);
        printf("array last element: %u\n", back);
        struct bpf_obj_info mi = {0};
        long got_info = bpf_obj_get_info(big, &mi, sizeof mi);
        printf("map info: %ld kind=%u type=%u key=%u value=%u max=%u\n", got_info, mi.kind,
               mi.map_type, mi.key_size, mi.value_size, mi.max_entries);
        printf("pin map: %ld\n", bpf_obj_pin(big, "hostile/big"));
        printf("get map pin: same=%d kind=%u\n", bpf_obj_get_kind("hostile/big", &kind) == big,
               kind);
    }
    printf("second 64M array: %ld\n", bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 1, 1 << 26));
    printf("64M ringbuf: %ld\n", bpf_map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 26));
    printf("1M x 1M hash: %ld\n", bpf_map_create(BPF_MAP_TYPE_HASH, 4, 1 << 20, 1 << 20));
}

/* ---------------------------------------------------------------- modes */

static long load_attach(const struct bpf_insn *insns, int count, uint32_t type)
{
    long id = bpf_prog_load(insns, count, "hostile", type, 0, 0);
    if (id >= 0 && bpf_prog_attach(id, type) < 0)
        return -1;
    return id;
}

static int restart_mode(void)
{
    static struct bpf_insn enter[BPF_INSN_COUNT(count_prog)], leave[BPF_INSN_COUNT(count_prog)];
    long enter_map = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    long exit_map = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    memcpy(enter, count_prog, sizeof count_prog);
    memcpy(leave, count_prog, sizeof count_prog);
    enter[3].imm = (int32_t)enter_map;
    leave[3].imm = (int32_t)exit_map;
    if (load_attach(enter, BPF_INSN_COUNT(enter), BPF_ATTACH_SYS_ENTER) < 0 ||
        load_attach(leave, BPF_INSN_COUNT(leave), BPF_ATTACH_SYS_EXIT) < 0) {
        print("restart: cannot attach\n");
        return 1;
    }
    uint32_t zero = 0;
    uint64_t entered = 0, exited = 0;
    bpf_map_lookup(enter_map, &zero, &entered); /* counts itself on entry */
    bpf_map_lookup(exit_map, &zero, &exited);   /* sees the exits up to the previous call */
    long before = (long)(entered - exited);
    for (int i = 0; i < 3; i++)
        sleep_ms(10);
    bpf_map_lookup(enter_map, &zero, &entered);
    bpf_map_lookup(exit_map, &zero, &exited);
    printf("restart: enter-exit grew by %ld over 3 blocking sleeps\n",
           (long)(entered - exited) - before);
    return 0;
}

static int jump0_mode(void)
{
    void (*volatile target)(void) = 0;
    print("jump0: calling address 0\n");
    target();
    print("jump0: survived (wrong)\n");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "restart") == 0)
        return restart_mode();
    if (argc > 1 && strcmp(argv[1], "jump0") == 0)
        return jump0_mode();
    long exit_prog = load_attach(ret0, BPF_INSN_COUNT(ret0), BPF_ATTACH_SYS_EXIT);
    printf("sys_exit attached: %d\n", exit_prog >= 0);
    tmpfs_checks();
    debug_checks();
    elf_checks();
    memory_checks();
    bpf_checks(exit_prog);
    print("t_hostile: done\n");
    return 0;
}
