/* t_exec: execve replaces the process image.
 *
 * Output:
 *   execve missing: -43
 *   execing /bin/t_args
 * then t_args' output for argv {"t_args", "one", "two"} and envp {"MODE=exec"}:
 *   argc=3
 *   argv[0]=t_args
 *   argv[1]=one
 *   argv[2]=two
 *   envp[0]=MODE=exec
 *   t_args: done
 * Exit status 3 (t_args' argc); "execve failed: <n>" and 1 if execve returns.
 * With an argument, execs that path instead (argv {path}, no environment). */
#include "minilib.h"

int main(int argc, char **args)
{
    if (argc > 1) {
        char *one[] = {args[1], 0};
        char *none[] = {0};
        printf("execve %s failed: %ld\n", args[1], execve(args[1], one, none));
        return 1;
    }
    char *argv[] = {"t_args", "one", "two", 0};
    char *envp[] = {"MODE=exec", 0};
    printf("execve missing: %ld\n", execve("/bin/no_such_program", argv, envp));
    print("execing /bin/t_args\n");
    long r = execve("/bin/t_args", argv, envp);
    printf("execve failed: %ld\n", r);
    return 1;
}
