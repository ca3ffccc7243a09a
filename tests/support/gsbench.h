/*
 * gsbench.h: what the benchmarks in tests/bench share to describe the
 * machine they ran on and to read a running process's figures from /proc.
 *
 * Nothing here asserts or exits: a figure that cannot be read comes back as
 * "unknown" or -1, and the benchmark prints it as such, because a benchmark
 * on an unusual system should still report what it could measure. Linux
 * only (/proc).
 */
#ifndef GRIDSYNC_GSBENCH_H
#define GRIDSYNC_GSBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The "model name" of /proc/cpuinfo into out, or "unknown". */
void gsb_cpu_model(char *out, size_t cap);

/* The kind of file system path is on ("ext4", "tmpfs (...)", "other", ...);
 * a tmpfs is named with a warning, since fsync there costs nothing. */
const char *gsb_fs_name(const char *path);

/* The 1-minute load average (how busy the shared machine was), or -1. */
double gsb_loadavg(void);

/* A "VmHWM:"-style line of /proc/PID/status in KiB; -1 if unreadable. */
long gsb_proc_status_kb(pid_t pid, const char *key);

/* The main thread's time on a CPU and waiting for one (run queue), in
 * seconds, from /proc/PID/schedstat; what is left of the wall time it spent
 * blocked (fsync, disk, poll). False if unreadable. */
bool gsb_proc_sched(pid_t pid, double *run_s, double *wait_s);

/* Bytes the process has caused to be written to storage (/proc/PID/io), or
 * -1. */
long long gsb_proc_write_bytes(pid_t pid);

/* A progress line on stderr, rewritten in place, when stderr is a terminal
 * (in a log file it would only be noise). */
void gsb_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Clears the progress line, when stderr is a terminal. */
void gsb_progress_end(void);

/* "PROG: message (see PROG --help)" on stderr and exit code 2: a wrong
 * command line, as opposed to a benchmark that failed. */
void gsb_bad_usage(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* The value v of option opt as a whole number in [lo, hi]; anything else
 * ends the benchmark with gsb_bad_usage. */
long gsb_parse_long(const char *prog, const char *opt, const char *v, long lo, long hi);

#endif
