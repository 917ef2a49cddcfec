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
 * Exit status 3 (t_args' argc); "execve failed: <n>" and 1 if execve returns. */
#include "minilib.h"

int main(void)
{
    char *argv[] = {"t_args", "one", "two", 0};
    char *envp[] = {"MODE=exec", 0};
    printf("execve missing: %ld\n", execve("/bin/no_such_program", argv, envp));
    print("execing /bin/t_args\n");
    long r = execve("/bin/t_args", argv, envp);
    printf("execve failed: %ld\n", r);
    return 1;
}
