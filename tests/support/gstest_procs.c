/*
 * gstest_procs.c: the background processes of a test (see gstest.h,
 * gst_procs): started with gst_spawn, each in a process group of its own,
 * remembered until reaped, and all killed at the end.
 *
 * Invariant: a pid is in p->pid from its start until gst_procs_reap has
 * collected its exit, so gst_procs_kill_all never signals a pid the system
 * may have given to another process.
 */
#include "gstest.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Remembers a started process, here and in p->pid_file when set. */
static void track(gst_procs *p, pid_t pid)
{
    ck_assert_msg(pid > 0, "cannot start a process: %s", strerror(errno));
    ck_assert_int_lt(p->n, GST_MAX_PROCS);
    p->pid[p->n++] = pid;
    if (!p->pid_file)
        return;
    int fd = open(p->pid_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "%d\n", (int)pid);
        if (write(fd, line, (size_t)n) != n)
            perror(p->pid_file);
        close(fd);
    }
}

static void untrack(gst_procs *p, pid_t pid)
{
    for (int i = 0; i < p->n; i++)
        if (p->pid[i] == pid) {
            p->pid[i] = p->pid[--p->n];
            return;
        }
}

pid_t gst_procs_spawn(gst_procs *p, const char *const argv[], const char *log_path)
{
    pid_t pid = gst_spawn(argv, log_path);
    track(p, pid);
    return pid;
}

int gst_procs_reap(gst_procs *p, pid_t pid, bool block)
{
    int ws;
    pid_t r;
    while ((r = waitpid(pid, &ws, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return -1;
    untrack(p, pid);
    if (r < 0)
        return -2;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int gst_procs_wait(gst_procs *p, pid_t pid, int ms)
{
    int64_t end = gst_now_ms() + ms;
    for (;;) {
        int st = gst_procs_reap(p, pid, false);
        if (st != -1 || gst_now_ms() >= end)
            return st;
        gst_sleep_ms(10);
    }
}

void gst_procs_kill9(gst_procs *p, pid_t pid)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    gst_procs_reap(p, pid, true);
}

void gst_procs_kill_all(gst_procs *p)
{
    while (p->n > 0)
        gst_procs_kill9(p, p->pid[p->n - 1]);
}

void gst_teardown(gst_procs *p, gst_result *r, char **tmp)
{
    gst_procs_kill_all(p);
    gst_result_free(r);
    if (*tmp)
        gst_rmrf(*tmp);
    free(*tmp);
    *tmp = NULL;
}

pid_t gst_hub_serve(gst_procs *p, const char *db, const char *endpoint, const char *log,
                    bool verbose)
{
    const char *argv[] = {"gridhub", "--db", db, "serve", "--bind", endpoint,
                          verbose ? "-v" : NULL, NULL};
    int before = gst_count_in_file(log, "gridhub: serving ");
    pid_t pid = gst_procs_spawn(p, argv, log);
    int64_t end = gst_now_ms() + 20000;
    while (gst_count_in_file(log, "gridhub: serving ") <= before) {
        ck_assert_msg(gst_procs_reap(p, pid, false) == -1, "gridhub serve exited at start");
        ck_assert_msg(gst_now_ms() < end, "gridhub serve did not start within 20 s");
        gst_sleep_ms(10);
    }
    return pid;
}
