/* t_layout: where the kernel put this process (spec sections 9 and 11): prints SP
 * at entry (the stack top: argc lives there, in the page the original leaves as
 * the upper guard page), the getcwd buffer address (a stack buffer), and three
 * malloc results (first fit in the "anywhere" range, after the ELF file copy and
 * the stack). With argument "exec" it execve()s itself with "child", whose layout
 * comes from execve's fresh allocator (no file copy; AArch64 base 0x1_0000_0000).
 *
 * Output (addresses in hex; the boot test computes them from the ELF file):
 *   <tag>: sp=<hex> cwd_buf=<hex> malloc16=<hex> malloc5000=<hex> malloc1=<hex>
 * where tag is "spawned" or "execed". Exit status 0. */
#include "minilib.h"


int main(int argc, char **argv)
{
    unsigned long sp = (unsigned long)(argv - 1);
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        char *args[] = {"/bin/t_layout", "child", 0};
        char *env[] = {0};
        execve("/bin/t_layout", args, env);
        return 1;
    }
    char cwd[64];
    long buf = getcwd(cwd, sizeof cwd);
    void *a = malloc(16);
    void *b = malloc(5000);
    void *c = malloc(1);
    printf("%s: sp=%lx cwd_buf=%lx malloc16=%lx malloc5000=%lx malloc1=%lx\n",
           argc > 1 ? "execed" : "spawned", sp, (unsigned long)buf, (unsigned long)a,
           (unsigned long)b, (unsigned long)c);
    return 0;
}
