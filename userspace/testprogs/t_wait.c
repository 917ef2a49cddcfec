/* t_wait: exit statuses as seen by waitpid, and WNOHANG.
 *
 * Output:
 *   exit(0): status=0x0000 code=0
 *   exit(7): status=0x0700 code=7
 *   exit(255): status=0xff00 code=255
 *   abort(): status=0x8600 code=134
 *   wnohang before exit: 0
 *   exit(3) after 50 ms: status=0x0300 code=3
 *   t_wait: done
 * Exit status 0. */
#include "minilib.h"

static void report(const char *what, long pid)
{
    int status = -1;
    long r = waitpid(pid, &status, 0);
    if (r != pid) {
        printf("%s: waitpid FAILED (%ld)\n", what, r);
        exit(1);
    }
    printf("%s: status=0x%04x code=%d\n", what, status, (status >> 8) & 0xff);
}

static long child_exiting(int code)
{
    long pid = fork();
    if (pid == 0)
        exit(code);
    return pid;
}

int main(void)
{
    report("exit(0)", child_exiting(0));
    report("exit(7)", child_exiting(7));
    report("exit(255)", child_exiting(255));

    long pid = fork();
    if (pid == 0)
        abort();
    report("abort()", pid);

    pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        exit(3);
    }
    int status = -1;
    printf("wnohang before exit: %ld\n", waitpid(pid, &status, WNOHANG));
    report("exit(3) after 50 ms", pid);
    print("t_wait: done\n");
    return 0;
}
