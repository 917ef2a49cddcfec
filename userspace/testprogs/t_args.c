/* t_args: shows the process arguments and environment.
 *
 * Output, e.g. for `init=/bin/t_args foo bar` (argv = {"/bin/t_args", "foo", "bar"}):
 *   argc=3
 *   argv[0]=/bin/t_args
 *   argv[1]=foo
 *   argv[2]=bar
 *   envp[<i>]=<entry>        (one line per environment entry, if any)
 *   t_args: done
 * Exit status: argc. */
#include "minilib.h"

int main(int argc, char **argv, char **envp)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    if (argv[argc] != 0)
        print("argv not NULL-terminated\n");
    for (int i = 0; envp[i]; i++)
        printf("envp[%d]=%s\n", i, envp[i]);
    print("t_args: done\n");
    return argc;
}
