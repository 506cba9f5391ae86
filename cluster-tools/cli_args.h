/*
 * cli_args.h -- command-line options of slotcache-cli's subcommands.
 *
 * Each subcommand declares a table of its options; args_parse fills the
 * variables they point to, collects positional words, and rejects what the
 * table does not know with a message that names the word.  Options may
 * come anywhere, as `--name value` or `--name=value`; "--" ends them.
 */
#pragma once

#include "cluster-tools/cli_util.h"

#include <stdbool.h>

enum args_type {
    ARGS_FLAG,   /* bool *: present or not */
    ARGS_INT,    /* long long *, between min and max */
    ARGS_STR,    /* const char **: points into argv */
    ARGS_OPT_INT /* long long *: `--watch` alone sets `implied`, `--watch 5` sets 5 */
};

struct args_opt {
    const char *name; /* without the leading "--" */
    enum args_type type;
    void *dst; /* holds the default on entry */
    long long min, max;
    long long implied; /* ARGS_OPT_INT: the value of the bare flag */
    bool seen;         /* set by args_parse */
};

#define ARGS_END                                                                                   \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* Parses argv[0..argc) against opts (ended by ARGS_END).  Positional words
 * go to pos[0..maxpos); *npos gets how many.  SC_ERR with a message in err
 * for an unknown option, a missing or bad value, or too many words. */
int args_parse(struct args_opt *opts, int argc, char **argv, char **pos, int maxpos, int *npos,
               struct cli_err *err);

/* Parses "PORT" or "HOST:PORT" (host defaults to def_host); SC_ERR with a
 * message naming what. */
int args_hostport(const char *s, const char *def_host, char *host, size_t hostlen, int *port,
                  const char *what, struct cli_err *err);
