/* Console output: print* helpers and a small printf/snprintf.
 * Conversions %d %i %u %x %X %p %c %s %%; flags '-' '0' '+' ' '; width and precision
 * (digits or '*'); length modifiers l, ll, z (%-4s, %8lu, %08lx, %.3s, %5.2d).
 * Anything else prints "%?" and consumes one (long-sized) argument, so the
 * arguments after it still line up.
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

/* One conversion's flags, width, precision (-1: none) and length (0, 'l', 'L' = ll, 'z'). */
struct spec {
    int left, zero, plus, space;
    int width, prec;
    char len;
};

static void put_pad(struct out *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

/* Digits of v in base (lower/upper case), with sign/prefix, precision and width. */
static void put_num(struct out *o, unsigned long long v, unsigned base, int upper, char sign,
                    const char *prefix, const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    if (v || sp->prec != 0) {
        do {
            tmp[n++] = digits[v % base];
            v /= base;
        } while (v);
    }
    int zeros = sp->prec > n ? sp->prec - n : 0;
    int body = n + zeros + (sign != 0) + (int)strlen(prefix);
    int fill = sp->width > body ? sp->width - body : 0;
    int zero_pad = sp->zero && !sp->left && sp->prec < 0;
    if (!sp->left && !zero_pad)
        put_pad(o, ' ', fill);
    if (sign)
        put(o, sign);
    for (; *prefix; prefix++)
        put(o, *prefix);
    if (zero_pad)
        put_pad(o, '0', fill);
    put_pad(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_pad(o, ' ', fill);
}

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
    if (!s)
        s = "(null)";
    int n = 0;
    while (s[n] && (sp->prec < 0 || n < sp->prec))
        n++;
    int fill = sp->width > n ? sp->width - n : 0;
    if (!sp->left)
        put_pad(o, ' ', fill);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        put_pad(o, ' ', fill);
}

static int parse_int(const char **fmt)
{
    int v = 0;
    while (**fmt >= '0' && **fmt <= '9')
        v = v * 10 + (*(*fmt)++ - '0');
    return v;
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
        struct spec sp = {0, 0, 0, 0, 0, -1, 0};
        for (;; fmt++) {
            if (*fmt == '-')
                sp.left = 1;
            else if (*fmt == '0')
                sp.zero = 1;
            else if (*fmt == '+')
                sp.plus = 1;
            else if (*fmt == ' ')
                sp.space = 1;
            else
                break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0)
                sp.left = 1, sp.width = -sp.width;
            fmt++;
        } else {
            sp.width = parse_int(&fmt);
        }
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                sp.prec = va_arg(ap, int);
                fmt++;
            } else {
                sp.prec = parse_int(&fmt);
            }
        }
        if (*fmt == 'l' && fmt[1] == 'l')
            sp.len = 'L', fmt += 2;
        else if (*fmt == 'l' || *fmt == 'z')
            sp.len = *fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = sp.len == 'L' ? va_arg(ap, long long)
                          : sp.len      ? va_arg(ap, long)
                                        : va_arg(ap, int);
            char sign = v < 0 ? '-' : sp.plus ? '+' : sp.space ? ' ' : 0;
            put_num(&o, v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, 0, sign, "",
                    &sp);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = sp.len == 'L' ? va_arg(ap, unsigned long long)
                                   : sp.len      ? va_arg(ap, unsigned long)
                                                 : va_arg(ap, unsigned);
            put_num(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, "", &sp);
            break;
        }
        case 'p':
            put_num(&o, (unsigned long)va_arg(ap, void *), 16, 0, 0, "0x", &sp);
            break;
        case 'c': {
            int fill = sp.width > 1 ? sp.width - 1 : 0;
            if (!sp.left)
                put_pad(&o, ' ', fill);
            put(&o, (char)va_arg(ap, int));
            if (sp.left)
                put_pad(&o, ' ', fill);
            break;
        }
        case 's':
            put_str(&o, va_arg(ap, const char *), &sp);
            break;
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--; /* a lone '%' at the end */
            break;
        default: /* unsupported: say so and keep the remaining arguments in step */
            (void)va_arg(ap, long);
            put(&o, '%'), put(&o, '?');
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
