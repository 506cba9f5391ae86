/*
 * cli_proc.h -- the processes `slotcache-cli up` starts and `down` stops:
 * spawning them detached with their output in a log, knowing a recorded
 * pid is still the same process, and ports.
 *
 * A process is identified by its pid and its start time (field 22 of
 * /proc/PID/stat): a pid the kernel has since given to someone else has
 * another start time, so `down` never signals a stranger.  Zombies count
 * as gone: they hold no port, and the process that should reap them may
 * not be us.
 */
#pragma once

#include "cluster-tools/cli_util.h"

#include <stdbool.h>
#include <sys/types.h>

struct proc_spawn {
    const char *const *argv; /* argv[0]: the program's path */
    const char *log;         /* stdout and stderr are appended here */
    const char *cwd;
    const char *const *env; /* extra "NAME=value" entries, NULL-ended; NULL: none */
    bool as_postgres;       /* run as user postgres (we are root; PostgreSQL refuses root) */
};

/* Set by SIGINT and SIGTERM once proc_catch_signals ran: waits give up. */
extern volatile int proc_interrupted;
/* Makes SIGINT/SIGTERM interrupt waits instead of killing the cli, so
 * that `up` can stop what it started; ignores SIGPIPE. */
void proc_catch_signals(void);

/* Starts a process in a session of its own (a Ctrl-C in the terminal is
 * not for it), stdin from /dev/null, no inherited descriptors.  Returns
 * its pid, or -1 with err set (a failed exec shows in the log, exit 127). */
pid_t proc_spawn(const struct proc_spawn *sp, struct cli_err *err);
/* Waits up to timeout_ms for our child pid to exit; *status gets its exit
 * code (128 + signal when killed).  On timeout or interruption the child
 * is killed and SC_ERR returned. */
int proc_wait_exit(pid_t pid, long long timeout_ms, int *status, struct cli_err *err);
/* Whether our child pid has exited (reaps it); *status as above. */
bool proc_exited(pid_t pid, int *status);

/* The start time of pid (clock ticks since boot), 0 if there is no such
 * live process. */
unsigned long long proc_start_time(pid_t pid);
/* Whether pid is still the process that started at `start`. */
bool proc_alive(pid_t pid, unsigned long long start);

/* Whether 127.0.0.1:port can be listened on now. */
bool proc_port_free(int port);
/* Whether something accepts connections on 127.0.0.1:port. */
bool proc_port_open(int port);

/* uid and gid of user postgres; SC_ERR if there is none. */
int proc_postgres_user(uid_t *uid, gid_t *gid, struct cli_err *err);
/* Removes a directory tree (as rm -rf); SC_OK if it is gone. */
int proc_rmtree(const char *path, struct cli_err *err);
/* Prints the last lines of a log to stderr, under a header naming it. */
void proc_print_log_tail(const char *path);
