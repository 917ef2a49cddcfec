/* t_gdb: the program the gdb tests debug (breakpoints, locals, watchpoints, fork).
 *
 * Output:
 *   t_gdb: start
 *   t_gdb: child
 *   t_gdb: total 6, child status 7
 * (the child's write of 100 to `counter` stays in the child's address space)
 * Exit status 0. The `gdb:` comments mark lines the tests look up by name. */
#include "minilib.h"

volatile long counter; /* the global the watchpoint test watches */
volatile long doubled;

__attribute__((noinline)) static long bump(long by)
{
    counter = counter + by, doubled = counter * 2; /* gdb: watch */
    return counter;
}

int main(void)
{
    volatile long steps = 3; /* gdb: local */
    print("t_gdb: start\n"); /* gdb: after-local */
    for (long i = 1; i <= steps; i++)
        bump(i);
    long pid = fork();
    if (pid == 0) {
        counter = 100; /* gdb: child */
        print("t_gdb: child\n");
        exit(7);
    }
    int status = 0;
    waitpid(pid, &status, 0); /* gdb: forked */
    printf("t_gdb: total %ld, child status %d\n", counter, (status >> 8) & 0xff);
    return 0;
}
