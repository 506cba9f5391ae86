/*
 * cli_proc.c -- see cli_proc.h.
 */
#include "cluster-tools/cli_proc.h"

#include "common/net.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROC_POLL_MS 50
#define PROC_LOG_TAIL 3000 /* bytes of a log shown when its process failed */
#define PROC_KILL_WAIT_MS 5000

volatile int proc_interrupted;

static void
on_signal(int sig)
{
    (void)sig;
    proc_interrupted = 1;
}

void
proc_catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- the child's side of proc_spawn: only what must happen between fork
 * and exec, each failure written to the log ---- */

static void SC_NORETURN
child_fail(const char *what, const char *path)
{
    dprintf(STDERR_FILENO, "slotcache-cli: %s %s: %s\n", what, path, strerror(errno));
    _exit(127);
}

static void
child_reset_signals(void)
{
    sigset_t none;

    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
child_redirect(const char *log)
{
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);

    if (out < 0 || in < 0) {
        child_fail("cannot open", out < 0 ? log : "/dev/null");
    }
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    /* Sockets and files of the cli (hiredis connections) are not theirs. */
    close_range(3, ~0U, 0);
}

static void
child_become_postgres(void)
{
    uid_t uid;
    gid_t gid;
    struct cli_err err;

    if (proc_postgres_user(&uid, &gid, &err) != SC_OK) {
        dprintf(STDERR_FILENO, "slotcache-cli: %s\n", err.msg);
        _exit(126);
    }
    if (initgroups("postgres", gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        child_fail("cannot become user", "postgres");
    }
}

static void SC_NORETURN
child_exec(const struct proc_spawn *sp)
{
    setsid();
    child_reset_signals();
    child_redirect(sp->log);
    if (sp->as_postgres) {
        child_become_postgres();
    }
    if (chdir(sp->cwd) != 0) {
        child_fail("cannot enter", sp->cwd);
    }
    for (const char *const *e = sp->env; e != NULL && *e != NULL; e++) {
        putenv((char *)*e); /* putenv keeps the string; exec copies it */
    }
    execv(sp->argv[0], (char *const *)sp->argv);
    child_fail("cannot run", sp->argv[0]);
}

pid_t
proc_spawn(const struct proc_spawn *sp, struct cli_err *err)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        cli_fail(err, "cannot start %s: fork: %s", sp->argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        child_exec(sp);
    }
    return pid;
}

static int
exit_code(int wstatus)
{
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

bool
proc_exited(pid_t pid, int *status)
{
    int ws;
    pid_t r = waitpid(pid, &ws, WNOHANG);

    if (r == pid) {
        *status = exit_code(ws);
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        *status = -1; /* not our child (any more): someone else reaped it */
        return proc_start_time(pid) == 0;
    }
    return false;
}

int
proc_wait_exit(pid_t pid, long long timeout_ms, int *status, struct cli_err *err)
{
    long long deadline = cli_now_ms() + timeout_ms;

    while (!proc_exited(pid, status)) {
        if (proc_interrupted || cli_now_ms() > deadline) {
            /* The whole session: data/load leaves a pipeline of its own. */
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return cli_fail(
                err, "%s", proc_interrupted ? "interrupted" : "timed out waiting for it to finish");
        }
        cli_sleep_ms(PROC_POLL_MS);
    }
    return SC_OK;
}

/* ---- identity ---- */

unsigned long long
proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long start = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold anything, so fields are
     * counted from its closing parenthesis; starttime is the 20th after. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X') {
        return 0;
    }
    p += 2;
    for (int field = 1; field < 20 && p != NULL; field++) {
        p = strchr(p, ' ');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p != NULL) {
        start = strtoull(p, NULL, 10);
    }
    return start;
}

bool
proc_alive(pid_t pid, unsigned long long start)
{
    int status;

    if (pid <= 0) {
        return false;
    }
    /* Our own child that exited must be reaped, or it stays a zombie. */
    waitpid(pid, &status, WNOHANG);
    return proc_start_time(pid) == start && start != 0;
}

/* ---- ports ---- */

bool
proc_port_free(int port)
{
    char err[256];
    int fd = net_listen("127.0.0.1", port, 1, err, sizeof(err));

    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

bool
proc_port_open(int port)
{
    char err[256];
    int fd = net_connect_blocking("127.0.0.1", port, 500, err, sizeof(err));

    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

/* ---- files and users ---- */

int
proc_postgres_user(uid_t *uid, gid_t *gid, struct cli_err *err)
{
    struct passwd *pw = getpwnam("postgres");

    if (pw == NULL) {
        return cli_fail(err, "there is no user 'postgres' to run PostgreSQL as (Debian's "
                             "postgresql package creates it: scripts/deps.sh)");
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return SC_OK;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int
proc_rmtree(const char *path, struct cli_err *err)
{
    struct stat st;

    if (lstat(path, &st) != 0 && errno == ENOENT) {
        return SC_OK;
    }
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        return cli_fail(err, "cannot remove %s: %s", path, strerror(errno));
    }
    return SC_OK;
}

void
proc_print_log_tail(const char *path)
{
    char buf[PROC_LOG_TAIL + 1];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return;
    }
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > PROC_LOG_TAIL) {
        fseek(f, -PROC_LOG_TAIL, SEEK_END);
    } else {
        fseek(f, 0, SEEK_SET);
    }
    size_t n = fread(buf, 1, PROC_LOG_TAIL, f);
    fclose(f);
    buf[n] = '\0';
    fprintf(stderr, "---- the end of %s ----\n%s%s", path, buf,
            n > 0 && buf[n - 1] != '\n' ? "\n" : "");
}
