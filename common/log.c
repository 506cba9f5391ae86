/*
 * log.c -- see log.h.  Writes one line per call with a single write() on an
 * O_APPEND descriptor, so lines from several processes sharing a file do not
 * interleave and a full disk loses lines rather than stalling the loop.
 */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

int log_min_level = LL_NOTICE;
static int log_fd = STDERR_FILENO;
static char log_role = 'M';

static const char *const level_names[] = {"debug", "verbose", "notice", "warning", "nothing"};
static const char level_marks[] = ".-*##";

int
log_level_parse(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *
log_level_name(int level)
{
    if (level < 0 || level >= (int)ARRAY_LEN(level_names)) {
        return "unknown";
    }
    return level_names[level];
}

int
log_setup(const char *file, int level, char role)
{
    log_min_level = level;
    log_role = role;
    if (file == NULL || file[0] == '\0') {
        return SC_OK;
    }
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return SC_ERR;
    }
    if (log_fd != STDERR_FILENO) {
        close(log_fd);
    }
    log_fd = fd;
    return SC_OK;
}

void
log_teardown(void)
{
    if (log_fd != STDERR_FILENO) {
        close(log_fd);
        log_fd = STDERR_FILENO;
    }
}

void
log_write(int level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    int saved_errno = errno;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%d:%c ", (int)getpid(), log_role);
    n += (int)strftime(line + n, sizeof(line) - (size_t)n, "%d %b %Y %H:%M:%S.", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%03d %c ", (int)(tv.tv_usec / 1000),
                  level_marks[level < 0 || level > LL_WARNING ? LL_WARNING : level]);

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) {
        m = 0;
    }
    n += m;
    if (n > (int)sizeof(line) - 2) {
        n = (int)sizeof(line) - 2; /* truncated: keep the newline */
    }
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w; /* nowhere to report a failed log write */
    errno = saved_errno;
}

void
sc_assert_fail(const char *expr, const char *file, int line)
{
    log_write(LL_WARNING, "ASSERTION FAILED: %s at %s:%d", expr, file, line);
    abort();
}
