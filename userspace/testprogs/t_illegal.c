/* t_illegal: an undefined instruction kills only this process.
 *
 * Output:
 *   before illegal instruction
 * then the kernel kills the process at `ud2` (x86_64) / `udf #0` (AArch64);
 * "after illegal instruction" must never appear. */
#include "minilib.h"

int main(void)
{
    print("before illegal instruction\n");
#if defined(__x86_64__)
    __asm__ volatile("ud2");
#else
    __asm__ volatile("udf #0");
#endif
    print("after illegal instruction\n");
    return 0;
}
