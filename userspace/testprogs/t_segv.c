/* t_segv: a user CPU fault kills only this process.
 *
 * Output:
 *   before fault
 * then the kernel kills the process while it reads address 0x8 (its console
 * message is the kernel's); "after fault" must never appear. */
#include "minilib.h"

int main(void)
{
    print("before fault\n");
    long v = *(volatile long *)0x8;
    printf("after fault %ld\n", v);
    return 0;
}
