/* Process entry. The kernel enters `_start` with SP at argc (System V layout:
 * argc, argv[] NULL-terminated, envp[] NULL-terminated, auxv). The asm passes SP
 * to start_c with the stack 16-byte aligned and a zero frame pointer. */
#include "minilib.h"

int main(int argc, char **argv, char **envp);

__attribute__((noreturn, used)) void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    exit(main(argc, argv, envp));
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        ".type _start, @function\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call start_c\n"
        "    ud2\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        ".type _start, %function\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x0, sp\n"
        "    and x1, x0, #-16\n"
        "    mov sp, x1\n"
        "    bl start_c\n"
        "    udf #0\n");
#endif
