/* t_dev: the device files and the standard descriptors.
 *
 * Output:
 *   via /dev/serial
 *   /dev/null write: 5
 *   /dev/null read: 0
 *   stdin read: 0
 *   stderr: OK
 *   t_dev: done
 * ("stderr: OK" is written to fd 2, which is the console too). Exit status 0. */
#include "minilib.h"

int main(void)
{
    char buf[16];
    long fd = open_path("/dev/serial", O_WRONLY);
    write(fd, "via /dev/serial\n", 16);
    close(fd);

    fd = open_path("/dev/null", O_RDWR);
    printf("/dev/null write: %ld\n", write(fd, "12345", 5));
    printf("/dev/null read: %ld\n", read(fd, buf, sizeof buf));
    close(fd);
    printf("stdin read: %ld\n", read(0, buf, sizeof buf));
    write(STDERR_FILENO, "stderr: OK\n", 11);
    print("t_dev: done\n");
    return 0;
}
