/* t_printf: minilib printf formats, one per line as "<format> -> [<output>]".
 * Checked line by line by tests/boot/test_printf.py on both architectures.
 * Exit status: 0, or 1 if snprintf's return value disagrees with what it wrote. */
#include "minilib.h"

static const char *unsupported = "%q|%d"; /* non-literal: -Wformat does not see it */

int main(void)
{
    printf("%%-4s -> [%-4s]\n", "ab");
    printf("%%4s -> [%4s]\n", "ab");
    printf("%%.3s -> [%.3s]\n", "abcdef");
    printf("%%-6.2s -> [%-6.2s]\n", "xyz");
    printf("%%8lu -> [%8lu]\n", 1234567UL);
    printf("%%-8lu -> [%-8lu]\n", 42UL);
    printf("%%08lx -> [%08lx]\n", 0xbeefUL);
    printf("%%lx -> [%lx]\n", 0xfedcba9876543210UL);
    printf("%%llu -> [%llu]\n", 18446744073709551615ULL);
    printf("%%lld -> [%lld]\n", -9223372036854775807LL - 1);
    printf("%%zu -> [%zu]\n", (size_t)4096);
    printf("%%zx -> [%zx]\n", (size_t)4096);
    printf("%%5d -> [%5d]\n", -42);
    printf("%%-5d -> [%-5d]\n", -42);
    printf("%%05d -> [%05d]\n", -42);
    printf("%%+d -> [%+d]\n", 7);
    printf("%% d -> [% d]\n", 7);
    printf("%%.4d -> [%.4d]\n", 7);
    printf("%%6.3d -> [%6.3d]\n", -7);
    printf("%%i -> [%i]\n", -2147483647 - 1);
    printf("%%u -> [%u]\n", 4294967295U);
    printf("%%X -> [%X]\n", 0xabcdefU);
    printf("%%x 0 -> [%x]\n", 0U);
    printf("%%*d -> [%*d]\n", 6, 99);
    printf("%%-*d -> [%-*d]\n", 6, 99);
    printf("%%3c -> [%3c]\n", 'z');
    printf("%%-3c -> [%-3c]\n", 'z');
    printf("%%p -> [%p]\n", (void *)0x1000);
    printf("%%s NULL -> [%s]\n", (char *)0);
    printf("%%q|%%d -> [");
    printf(unsupported, 1L, 5);
    printf("]\n");
    char small[8];
    int n = snprintf(small, sizeof small, "%-6s|%04d", "abc", 12);
    printf("snprintf -> [%s] %d\n", small, n);
    return n == 11 && strcmp(small, "abc   |") == 0 ? 0 : 1;
}
