/* t_fuzz: a seeded syscall fuzzer. Makes N random syscalls with hostile pointers
 * (NULL, unmapped, kernel-half, unaligned, straddling the end of a mapping), hostile
 * sizes (0, 1, page, 1 MiB, 4 GiB, 2^63, ~0) and random sys_bpf attrs (random command,
 * map geometry, instruction bytes, log buffers, pin paths, ids), then reports.
 *
 * Usage: t_fuzz SEED COUNT (from the kernel command line: `/bin/t_fuzz 1 3000`).
 * Output: "fuzz: seed=<s> calls=<n> ok=<k> errors=<e>" then "fuzz: done".
 * The process never exits early by itself; the kernel must survive every call.
 * Excluded, because they would end or stall the fuzzer rather than the kernel:
 * exit, abort, fork, execve, nanosleep and pipe (a random read of an empty pipe
 * blocks forever); MAP_FIXED only ever targets the fuzzer's own scratch arena, and
 * writes to the console are redirected to /dev/null. */
#include "bpf_user.h"

static uint64_t state;

static uint64_t next(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return next() % n; }

static uint8_t scratch[16384];      /* valid, writable memory with random contents */
static uint8_t *arena;              /* an anonymous mapping MAP_FIXED may replace */
#define ARENA_SIZE (1L << 20)

static const char *const paths[] = {
    "/tmp/f", "/tmp/d", "/var/tmp/x", "/var/hello.txt", "/dev/null", "/dev/serial",
    "/bin/t_hello", "/bin/init", "/", "/tmp", "..", "/nonexistent/x",
};

static uint64_t hostile_ptr(void)
{
    switch (below(10)) {
    case 0: return 0;
    case 1: return 0x10;
    case 2: return 0xffff800000000000ULL;
    case 3: return ~0ULL - below(64);
    case 4: return (uint64_t)scratch + below(sizeof scratch);         /* maybe unaligned */
    case 5: return (uint64_t)scratch + sizeof scratch - below(16);    /* straddles the end */
    case 6: return (uint64_t)arena + below(ARENA_SIZE);
    case 7: return (uint64_t)paths[below(sizeof paths / sizeof paths[0])];
    case 8: return 1ULL << below(64);
    default: return (uint64_t)scratch;
    }
}

static uint64_t hostile_size(void)
{
    static const uint64_t sizes[] = {
        0, 1, 7, 8, 16, 144, 176, 4096, 4097, 1 << 20, (1 << 20) + 1, 1ULL << 32,
        1ULL << 40, 1ULL << 63, ~0ULL, (uint64_t)-4096,
    };
    return below(3) ? sizes[below(sizeof sizes / sizeof sizes[0])] : below(1 << 16);
}

static uint64_t small_int(void)
{
    static const uint64_t values[] = {0, 1, 2, 3, 4, 5, 6, 7, 27, 100, 255, 256, ~0ULL};
    return below(2) ? values[below(sizeof values / sizeof values[0])] : next();
}

static void randomise_scratch(void)
{
    for (unsigned i = 0; i < 256; i++)
        scratch[below(sizeof scratch)] = (uint8_t)next();
}

/* A BpfAttr in scratch: random bytes with some fields made plausible. */
static uint64_t bpf_attr(void)
{
    struct bpf_attr_ext *attr = (struct bpf_attr_ext *)scratch;
    for (unsigned i = 0; i < sizeof *attr; i++)
        ((uint8_t *)attr)[i] = (uint8_t)next();
    if (below(2)) {
        static const uint32_t types[] = {1, 2, 27, 100, 0, 3, 9999};
        attr->prog_type = types[below(7)];
        attr->insn_cnt = (uint32_t)small_int();
        attr->insns = below(2) ? (uint64_t)(scratch + 1024) : hostile_ptr();
        if (below(2))
            attr->insns = (uint64_t)(small_int() & 0xffff) | small_int() << 32; /* geometry */
        attr->log_buf = below(2) ? (uint64_t)(scratch + 8192) : hostile_ptr();
        attr->log_size = (uint32_t)hostile_size();
        attr->log_level = (uint32_t)below(3);
        attr->map_fd = (uint32_t)below(8);
        attr->attach_btf_id = (uint32_t)below(9);
        attr->attach_prog_fd = (uint32_t)below(8);
        attr->key = hostile_ptr();
        attr->value = below(2) ? hostile_ptr() : hostile_size();
        attr->pathname = hostile_ptr();
        attr->path_len = (uint32_t)below(300);
        attr->file_flags = (uint32_t)below(4);
        attr->info = hostile_ptr();
        attr->info_len = (uint32_t)hostile_size();
        attr->expected_attach_type = (uint32_t)below(8);
    }
    return (uint64_t)attr;
}

static long one_call(void)
{
    static const long nrs[] = {
        SYS_OPEN, SYS_FSTAT, SYS_MALLOC, SYS_FREE, SYS_GETCWD, SYS_READ, SYS_WRITE,
        SYS_WRITEV, SYS_LSEEK, SYS_CLOSE, SYS_MMAP, SYS_DUP, SYS_DUP2, SYS_CHDIR,
        SYS_MKDIR, SYS_RMDIR, SYS_BPF, SYS_BPF, SYS_BPF, SYS_BPF, SYS_PWM_CONFIG,
        SYS_PWM_WRITE, SYS_PWM_ENABLE, SYS_CLOCK_GETTIME, SYS_SPAWN, SYS_WAITPID,
        SYS_DEBUG, 99, 0, 61, 1000,
    };
    long nr = nrs[below(sizeof nrs / sizeof nrs[0])];
    uint64_t a[6];
    for (int i = 0; i < 6; i++)
        a[i] = below(2) ? hostile_ptr() : below(2) ? hostile_size() : small_int();
    switch (nr) {
    case SYS_OPEN:
    case SYS_CHDIR:
    case SYS_MKDIR:
    case SYS_RMDIR:
    case SYS_SPAWN:
        if (below(2)) {
            const char *p = paths[below(sizeof paths / sizeof paths[0])];
            a[0] = (uint64_t)p;
            a[1] = below(4) ? strlen(p) : hostile_size();
        }
        if (nr == SYS_OPEN && below(2))
            a[2] = (O_CREAT | O_RDWR | O_TRUNC | O_APPEND) & next();
        break;
    case SYS_READ:
    case SYS_WRITE:
    case SYS_WRITEV:
    case SYS_LSEEK:
    case SYS_FSTAT:
    case SYS_CLOSE:
    case SYS_DUP:
    case SYS_DUP2:
        a[0] = below(4) ? below(12) : a[0];
        if ((nr == SYS_WRITE || nr == SYS_WRITEV) && (a[0] == 1 || a[0] == 2))
            a[0] = 0; /* keep the console for the report */
        if ((nr == SYS_CLOSE || nr == SYS_DUP2) && (a[0] == 1 || a[1] == 1))
            a[0] = 0, a[1] = 3 + below(8);
        if (nr == SYS_WRITEV && below(2)) {
            struct iovec *iov = (struct iovec *)(scratch + 4096);
            for (int i = 0; i < 16; i++) {
                iov[i].iov_base = (const void *)hostile_ptr();
                iov[i].iov_len = hostile_size();
            }
            a[1] = (uint64_t)iov;
            a[2] = below(20);
        }
        break;
    case SYS_MMAP:
        a[3] &= ~(uint64_t)MAP_FIXED;
        if (below(3) == 0) {
            a[0] = (uint64_t)arena + (below(ARENA_SIZE / 4096) * 4096);
            a[1] = below(2) ? 4096 * (1 + below(8)) : hostile_size();
            a[3] = MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS;
            if (a[0] + (a[1] & ~0xfffULL) > (uint64_t)arena + ARENA_SIZE)
                a[1] = 4096;
        }
        break;
    case SYS_FREE:
        if (a[0] == (uint64_t)arena)
            a[0] = 0;
        break;
    case SYS_BPF:
        a[0] = below(3) ? below(16) : below(2) ? 36 + below(3) : small_int();
        a[1] = below(8) ? bpf_attr() : hostile_ptr();
        a[2] = below(4) ? 176 : below(2) ? 144 : hostile_size();
        break;
    case SYS_WAITPID:
        a[2] = 1; /* WNOHANG: never wait for a child that may not come */
        break;
    case SYS_DEBUG:
        a[0] = below(4);
        break;
    default:
        break;
    }
    return syscall6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoul(argv[1], 0, 10) : 1;
    long count = argc > 2 ? (long)strtoul(argv[2], 0, 10) : 1000;
    state = seed;
    arena = malloc(ARENA_SIZE);
    if (is_err(arena)) {
        print("fuzz: no arena\n");
        return 1;
    }
    long ok = 0, errors = 0;
    for (long i = 0; i < count; i++) {
        randomise_scratch();
        long r = one_call();
        if (r < 0 && r > -4096)
            errors++;
        else
            ok++;
    }
    printf("fuzz: seed=%lu calls=%ld ok=%ld errors=%ld\n", (unsigned long)seed, count, ok,
           errors);
    print("fuzz: done\n");
    return 0;
}
