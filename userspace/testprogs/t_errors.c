/* t_errors: error returns of the emulator's deviations (spec section 12).
 *
 * Output:
 *   nosys: -51
 *   efault write: -20
 *   efault open: -20
 *   efault read: -20
 *   efault clock_gettime: -20
 *   eof: 0
 *   enoent open: -43
 *   ebadf close: -8
 *   einval malloc: -27
 *   enoent spawn: -43
 *   t_errors: done
 * Exit status 0. Address 0x10 is never mapped on either architecture. */
#include "minilib.h"

#define BAD ((void *)0x10)

int main(void)
{
    char buf[64];
    printf("nosys: %ld\n", syscall6(99, 0, 0, 0, 0, 0, 0));
    printf("efault write: %ld\n", write(STDOUT_FILENO, BAD, 5));
    printf("efault open: %ld\n", open(BAD, 5, O_RDONLY, 0));

    long fd = open_path("/var/hello.txt", O_RDONLY);
    printf("efault read: %ld\n", read(fd, BAD, 5));
    printf("efault clock_gettime: %ld\n", clock_gettime(0, BAD));
    while (read(fd, buf, sizeof buf) > 0)
        ;
    printf("eof: %ld\n", read(fd, buf, sizeof buf));
    close(fd);

    printf("enoent open: %ld\n", open_path("/var/no_such_file", O_RDONLY));
    printf("ebadf close: %ld\n", close(99));
    printf("einval malloc: %ld\n", (long)malloc(0));
    printf("enoent spawn: %ld\n", spawn("/bin/no_such_program", 20));
    print("t_errors: done\n");
    return 0;
}
