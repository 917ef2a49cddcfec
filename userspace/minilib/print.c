/* Console output: print* helpers and a small printf/snprintf.
 * Formats: %s %d %u %ld %lu %x %lx %c %p %% and a 0-padded width (%08lx).
 * printf formats into a stack buffer and issues ONE write, so a line printed by
 * one call is never interleaved with another process's output. */
#include "minilib.h"

struct out {
    char *buf;
    size_t size; /* capacity including the NUL */
    size_t len;  /* characters produced (may exceed size, like C's snprintf) */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long v, unsigned base, int neg, int width, char pad)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    for (int i = n; i < width; i++)
        put(o, pad);
    while (n)
        put(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, is_long = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            is_long = 1, fmt++;
        switch (*fmt) {
        case 'd': {
            long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
            put_num(&o, is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, 0, width,
                    pad);
            break;
        case 'x':
            put_num(&o, is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, 0, width,
                    pad);
            break;
        case 'p':
            put(&o, '0'), put(&o, 'x');
            put_num(&o, (unsigned long)va_arg(ap, void *), 16, 0, width, pad);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n = strlen(s ? s : "(null)");
            for (size_t i = n; i < (size_t)width; i++)
                put(&o, ' ');
            for (const char *p = s ? s : "(null)"; *p; p++)
                put(&o, *p);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--; /* a lone '%' at the end */
            break;
        default:
            put(&o, '%'), put(&o, *fmt);
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    return (int)write(STDOUT_FILENO, buf, n);
}

long print(const char *s) { return write(STDOUT_FILENO, s, strlen(s)); }
long print_dec(long v) { return printf("%ld", v); }
long print_udec(unsigned long v) { return printf("%lu", v); }
long print_hex(unsigned long v) { return printf("0x%lx", v); }
