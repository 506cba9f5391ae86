/*
 * log.h -- redis-style log lines: "pid:R dd Mon yyyy hh:mm:ss.mmm * text".
 *
 * Levels mean what redis's `loglevel` means (debug verbose notice warning).
 * The macros test the level before evaluating their arguments, so a disabled
 * log line costs one compare.  log_debug compiles out unless SC_DEBUG_LOG is
 * defined (twemproxy's log_debug), so per-request tracing is free in release.
 * Parsers and data structures never log: they return errors to a caller that
 * decides whether the failure is worth a line.
 */
#pragma once

#include "common/defs.h"

enum log_level { LL_DEBUG, LL_VERBOSE, LL_NOTICE, LL_WARNING, LL_NOTHING };

extern int log_min_level;

/* role is the redis role character: 'M' node, 'P' proxy, 'L' loader, 'C' tool.
 * file NULL or "" logs to stderr.  Returns SC_ERR (errno set) if the file
 * cannot be opened; stderr stays in use then. */
int log_setup(const char *file, int level, char role);
void log_teardown(void);
/* Name <-> level for config: "notice" -> LL_NOTICE; -1 for an unknown name. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

void log_write(int level, const char *fmt, ...) SC_PRINTF(2, 3);

#define log_at(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) >= log_min_level) {                                                            \
            log_write((level), __VA_ARGS__);                                                       \
        }                                                                                          \
    } while (0)

#define log_warn(...) log_at(LL_WARNING, __VA_ARGS__)
#define log_notice(...) log_at(LL_NOTICE, __VA_ARGS__)
#define log_verbose(...) log_at(LL_VERBOSE, __VA_ARGS__)
#ifdef SC_DEBUG_LOG
#define log_debug(...) log_at(LL_DEBUG, __VA_ARGS__)
#else
#define log_debug(...) ((void)0)
#endif
