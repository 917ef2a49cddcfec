/* t_hello: the smallest user program (the README's example of adding one).
 * Output:  hello from a user program
 * Exit status: 0 */
#include "minilib.h"

int main(void)
{
    print("hello from a user program\n");
    return 0;
}
