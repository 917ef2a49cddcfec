/* syscall_demo: exercises the basic syscalls, one line per step.
 *
 * Output (success, cwd "/"):
 *   === Syscall Demo ===
 *   malloc: OK
 *   writev: three iovecs in one call
 *   writev: OK
 *   free: OK
 *   pipe: OK
 *   dup: OK
 *   dup2: OK
 *   clock_gettime: OK
 *   getcwd: OK (/)
 *   All tests passed. Exiting successfully.
 * Exit status 0. On a failure: "<step>: FAILED (<value>)" and exit status 1. */
#include "minilib.h"

__attribute__((noreturn)) static void fail(const char *step, long value)
{
    printf("%s: FAILED (%ld)\n", step, value);
    exit(1);
}

/* Reads exactly n bytes from fd and compares them with want. */
static long read_back(int fd, const char *want, size_t n)
{
    char buf[64];
    long got = read(fd, buf, n);
    if (got != (long)n)
        return got < 0 ? got : -1;
    return memcmp(buf, want, n) == 0 ? 0 : -2;
}

int main(void)
{
    print("=== Syscall Demo ===\n");

    unsigned char *mem = malloc(4096);
    if (is_err(mem))
        fail("malloc", (long)mem);
    for (int i = 0; i < 4096; i++)
        mem[i] = (unsigned char)(i * 7);
    for (int i = 0; i < 4096; i++) {
        if (mem[i] != (unsigned char)(i * 7))
            fail("malloc", i);
    }
    print("malloc: OK\n");

    static const char p1[] = "writev: ", p2[] = "three iovecs", p3[] = " in one call\n";
    struct iovec iov[3] = {{p1, sizeof p1 - 1}, {p2, sizeof p2 - 1}, {p3, sizeof p3 - 1}};
    long total = writev(STDOUT_FILENO, iov, 3);
    if (total != (long)(sizeof p1 + sizeof p2 + sizeof p3 - 3))
        fail("writev", total);
    print("writev: OK\n");

    long r = free(mem);
    if (r != 0)
        fail("free", r);
    print("free: OK\n");

    int fds[2];
    static const char msg[] = "through the pipe";
    r = pipe(fds);
    if (r != 0)
        fail("pipe", r);
    r = write(fds[1], msg, sizeof msg);
    if (r != sizeof msg)
        fail("pipe", r);
    if ((r = read_back(fds[0], msg, sizeof msg)) != 0)
        fail("pipe", r);
    print("pipe: OK\n");

    long dupfd = dup(fds[1]);
    if (dupfd < 0)
        fail("dup", dupfd);
    r = write(dupfd, "via dup", 7);
    if (r != 7 || (r = read_back(fds[0], "via dup", 7)) != 0)
        fail("dup", r);
    print("dup: OK\n");

    r = dup2(fds[1], 10);
    if (r != 10)
        fail("dup2", r);
    r = write(10, "via dup2", 8);
    if (r != 8 || (r = read_back(fds[0], "via dup2", 8)) != 0)
        fail("dup2", r);
    close(10);
    close(dupfd);
    close(fds[0]);
    close(fds[1]);
    print("dup2: OK\n");

    struct timespec t0, t1;
    r = clock_gettime(0, &t0);
    if (r != 0)
        fail("clock_gettime", r);
    r = clock_gettime(0, &t1);
    if (r != 0 || t0.tv_nsec < 0 || t0.tv_nsec >= 1000000000 || t1.tv_sec < t0.tv_sec)
        fail("clock_gettime", r);
    print("clock_gettime: OK\n");

    char cwd[128];
    r = getcwd(cwd, sizeof cwd);
    if (r != (long)cwd)
        fail("getcwd", r);
    printf("getcwd: OK (%s)\n", cwd);

    print("All tests passed. Exiting successfully.\n");
    return 0;
}
