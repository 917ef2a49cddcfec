/* fork_test: fork, exit status through waitpid, and copy-on-fork memory.
 *
 * Output (success; the parent waits before printing, so the order is fixed):
 *   === Fork Test ===
 *   [child] fork returned 0
 *   [child] inherited value 1, writing 2
 *   [parent] forked child pid=<n>
 *   [parent] child exited with status 42
 *   [parent] address space isolated: OK
 *   fork_test: PASSED
 * There is no getpid syscall, so the child cannot print its own pid.
 * Exit status 0; on a failure "fork_test: FAILED (<what> <value>)" and status 1. */
#include "minilib.h"

static volatile long shared_value = 1;

__attribute__((noreturn)) static void fail(const char *what, long value)
{
    printf("fork_test: FAILED (%s %ld)\n", what, value);
    exit(1);
}

int main(void)
{
    print("=== Fork Test ===\n");
    long *heap = malloc(4096);
    if (is_err(heap))
        fail("malloc", (long)heap);
    heap[0] = 1;

    long pid = fork();
    if (pid < 0)
        fail("fork", pid);
    if (pid == 0) {
        print("[child] fork returned 0\n");
        printf("[child] inherited value %ld, writing 2\n", shared_value);
        shared_value = 2;
        heap[0] = 2;
        exit(42);
    }

    int status = 0;
    long r = waitpid(pid, &status, 0);
    printf("[parent] forked child pid=%ld\n", pid);
    if (r != pid)
        fail("waitpid", r);
    printf("[parent] child exited with status %d\n", (status >> 8) & 0xff);
    if (((status >> 8) & 0xff) != 42)
        fail("status", status);
    if (shared_value != 1 || heap[0] != 1)
        fail("isolation", shared_value * 10 + heap[0]);
    print("[parent] address space isolated: OK\n");
    print("fork_test: PASSED\n");
    return 0;
}
