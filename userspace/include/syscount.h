/* syscount.h: what userspace/bpf/syscount.bpf.c and its loader (programs/syscount.c)
 * share: the control record and the summary the timer program sends. */
#ifndef SYSCOUNT_H
#define SYSCOUNT_H

#define SYSCOUNT_MAX_NR 64 /* syscall numbers counted: 0..63 */

struct syscount_summary {
    uint32_t top_nr;    /* most frequent syscall number (the lowest on a tie) */
    uint32_t distinct;  /* numbers seen */
    uint64_t top_count; /* calls of top_nr */
    uint64_t total;     /* calls of all numbers */
};

struct syscount_ctl {
    uint32_t counting;     /* 1: count_enter counts every sys_enter */
    uint32_t want_summary; /* 1: the next timer tick sends a summary, then clears it */
    struct syscount_summary last; /* the last summary sent (report's scratch space) */
};

#endif
