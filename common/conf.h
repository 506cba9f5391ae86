/*
 * conf.h -- redis.conf-style configuration for every slotcache binary.
 *
 * A binary describes its directives once, in a table of struct conf_option
 * built with the CONF_* macros below (pelikan's BUF_OPTION tables); that one
 * table gives the defaults, the config-file parser, `--name value` on the
 * command line, CONFIG GET/SET on a running server and --help.
 *
 * File syntax is redis's: one directive a line, arguments split like
 * redis-cli splits them ("quoted strings", 'single', \x41 escapes), `#`
 * starts a comment line.  A bad line is reported as "FILE:LINE: reason" and
 * the caller exits 1.  Value errors use redis 7's words ("argument must be
 * between 0 and 65535 inclusive") because CONFIG SET shows them to clients.
 */
#pragma once

#include "common/defs.h"

#include <stdbool.h>
#include <stddef.h>

enum conf_type { CONF_BOOL, CONF_INT, CONF_MEM, CONF_STR, CONF_ENUM, CONF_CUSTOM };

#define CONF_RUNTIME 0x1 /* CONFIG SET may change it on a running server */

struct conf_enum {
    const char *name;
    int value;
};

struct conf_option;
/* Custom directive: parse argv[0..argc) (the words after the name) and store
 * the result.  SC_ERR with a reason in err. */
typedef int conf_set_fn(const struct conf_option *opt, int argc, char **argv, char *err,
                        size_t errlen);
/* Renders the current value (CONFIG GET, --help); returns its length. */
typedef size_t conf_get_fn(const struct conf_option *opt, char *buf, size_t len);
/* Called after a value changed at run time; SC_ERR + err undoes nothing but
 * is reported to the client. */
typedef int conf_apply_fn(const struct conf_option *opt, char *err, size_t errlen);

struct conf_option {
    const char *name;
    enum conf_type type;
    unsigned flags;
    void *ptr;       /* bool *, long long *, unsigned long long *, char **, int * */
    const char *def; /* default, written as in the file; NULL: none */
    long long min, max;
    const struct conf_enum *enums; /* CONF_ENUM: ends with {NULL, 0} */
    conf_set_fn *set;              /* CONF_CUSTOM */
    conf_get_fn *get;              /* CONF_CUSTOM */
    conf_apply_fn *apply;          /* optional, any type */
    const char *help;
};

#define CONF_BOOL_OPT(n, p, d, f, a, h)                                                            \
    {.name = n, .type = CONF_BOOL, .flags = f, .ptr = p, .def = d, .apply = a, .help = h}
#define CONF_INT_OPT(n, p, d, lo, hi, f, a, h)                                                     \
    {.name = n, .type = CONF_INT, .flags = f, .ptr = p, .def = d, .min = lo, .max = hi,            \
     .apply = a, .help = h}
#define CONF_MEM_OPT(n, p, d, f, a, h)                                                             \
    {.name = n, .type = CONF_MEM, .flags = f, .ptr = p, .def = d, .min = 0, .max = LLONG_MAX,     \
     .apply = a, .help = h}
/* A memory value with redis's bounds ("between 1048576 and ... inclusive"). */
#define CONF_MEM_RANGE_OPT(n, p, d, lo, f, a, h)                                                   \
    {.name = n, .type = CONF_MEM, .flags = f, .ptr = p, .def = d, .min = lo, .max = LLONG_MAX,    \
     .apply = a, .help = h}
#define CONF_STR_OPT(n, p, d, f, a, h)                                                             \
    {.name = n, .type = CONF_STR, .flags = f, .ptr = p, .def = d, .apply = a, .help = h}
#define CONF_ENUM_OPT(n, p, d, e, f, a, h)                                                         \
    {.name = n, .type = CONF_ENUM, .flags = f, .ptr = p, .def = d, .enums = e, .apply = a,         \
     .help = h}
#define CONF_CUSTOM_OPT(n, d, s, g, f, a, h)                                                       \
    {.name = n, .type = CONF_CUSTOM, .flags = f, .def = d, .set = s, .get = g, .apply = a,         \
     .help = h}
#define CONF_END {.name = NULL}

/* Sets every option to its default.  A default that does not parse is a bug
 * in the table: it aborts. */
void conf_defaults(const struct conf_option *opts);
/* Frees what string options own. */
void conf_free(const struct conf_option *opts);

const struct conf_option *conf_find(const struct conf_option *opts, const char *name);

/* Applies one directive: argv[0] is its name (any case).  SC_ERR with
 * redis's reason in err ("Bad directive or wrong number of arguments" for an
 * unknown name).  Does not call apply hooks: see conf_set_runtime. */
int conf_set_argv(const struct conf_option *opts, int argc, char **argv, char *err, size_t errlen);
/* CONFIG SET: like conf_set_argv for one value, then the apply hook; refuses
 * options without CONF_RUNTIME ("can't set immutable config"). */
int conf_set_runtime(const struct conf_option *opt, char *value, char *err, size_t errlen);
/* Reads a config file.  err gets "PATH:LINE: reason". */
int conf_load_file(const struct conf_option *opts, const char *path, char *err, size_t errlen);
/* main()'s arguments after argv[0]: an optional config file first, then
 * `--name value...` groups, applied after the file (redis-server's order). */
int conf_load_args(const struct conf_option *opts, int argc, char **argv, char *err,
                   size_t errlen);
/* The current value as text, as CONFIG GET shows it. */
size_t conf_get(const struct conf_option *opt, char *buf, size_t len);
/* --help: every directive, its default and its help line. */
void conf_print_help(const struct conf_option *opts, const char *prog);
