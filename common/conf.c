/*
 * conf.c -- see conf.h.
 */
#include "common/conf.h"

#include "common/mem.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONF_LINE_ARGS 64 /* words one directive may have */

const struct conf_option *
conf_find(const struct conf_option *opts, const char *name)
{
    for (const struct conf_option *o = opts; o->name != NULL; o++) {
        if (strcasecmp(o->name, name) == 0) {
            return o;
        }
    }
    return NULL;
}

static int split_words(char *line, char **argv);

static int
set_value(const struct conf_option *o, int argc, char **argv, char *err, size_t errlen)
{
    if (o->type == CONF_CUSTOM && argc == 1 && strchr(argv[0], ' ') != NULL) {
        /* --client-output-buffer-limit "normal 1mb 2mb 3": one word on the
         * command line, several in the directive, as redis reads it. */
        char *copy = mem_strdup(argv[0]);
        char *words[CONF_LINE_ARGS];
        int n = split_words(copy, words);
        int rc = n < 0 ? SC_ERR : o->set(o, n, words, err, errlen);
        if (n < 0) {
            snprintf(err, errlen, "unbalanced quotes");
        }
        mem_free(copy);
        return rc;
    }
    if (o->type == CONF_CUSTOM) {
        return o->set(o, argc, argv, err, errlen);
    }
    if (argc != 1) {
        snprintf(err, errlen, "wrong number of arguments");
        return SC_ERR;
    }
    const char *v = argv[0];
    long long ll;
    unsigned long long ull;

    switch (o->type) {
    case CONF_BOOL:
        if (strcasecmp(v, "yes") == 0) {
            *(bool *)o->ptr = true;
        } else if (strcasecmp(v, "no") == 0) {
            *(bool *)o->ptr = false;
        } else {
            snprintf(err, errlen, "argument must be 'yes' or 'no'");
            return SC_ERR;
        }
        return SC_OK;
    case CONF_INT:
        if (!util_str2ll(v, strlen(v), &ll)) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return SC_ERR;
        }
        if (ll < o->min || ll > o->max) {
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", o->min,
                     o->max);
            return SC_ERR;
        }
        *(long long *)o->ptr = ll;
        return SC_OK;
    case CONF_MEM:
        if (!util_str2mem(v, &ull)) {
            snprintf(err, errlen, "argument must be a memory value");
            return SC_ERR;
        }
        if (ull > (unsigned long long)o->max || ull < (unsigned long long)o->min) {
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", o->min,
                     o->max);
            return SC_ERR;
        }
        *(unsigned long long *)o->ptr = ull;
        return SC_OK;
    case CONF_STR:
        mem_free(*(char **)o->ptr);
        *(char **)o->ptr = mem_strdup(v);
        return SC_OK;
    case CONF_ENUM:
        for (const struct conf_enum *e = o->enums; e->name != NULL; e++) {
            if (strcasecmp(e->name, v) == 0) {
                *(int *)o->ptr = e->value;
                return SC_OK;
            }
        }
        size_t n = (size_t)snprintf(err, errlen, "argument(s) must be one of the following: ");
        for (const struct conf_enum *e = o->enums; e->name != NULL && n < errlen; e++) {
            n += (size_t)snprintf(err + n, errlen - n, "%s%s", e->name,
                                  e[1].name != NULL ? ", " : "");
        }
        return SC_ERR;
    case CONF_CUSTOM:
        break;
    }
    return SC_ERR;
}

int
conf_set_argv(const struct conf_option *opts, int argc, char **argv, char *err, size_t errlen)
{
    const struct conf_option *o = conf_find(opts, argv[0]);

    if (o == NULL) {
        snprintf(err, errlen, "Bad directive or wrong number of arguments");
        return SC_ERR;
    }
    return set_value(o, argc - 1, argv + 1, err, errlen);
}

/* Splits a NUL-terminated line into NUL-terminated words, in place.
 * Returns the word count, or -1 on unbalanced quotes or too many words. */
struct words {
    char **argv;
    size_t lens[CONF_LINE_ARGS];
    int n;
    bool overflow;
};

static void
collect_word(void *ctx, char *arg, size_t len)
{
    struct words *w = ctx;

    if (w->n == CONF_LINE_ARGS) {
        w->overflow = true;
        return;
    }
    w->argv[w->n] = arg;
    w->lens[w->n++] = len;
}

static int
split_words(char *line, char **argv)
{
    struct words w = {.argv = argv};

    if (util_split_args(line, strlen(line), collect_word, &w) < 0 || w.overflow) {
        return -1;
    }
    /* Each word's end lies on a separator or the line's NUL: safe to
     * terminate now that splitting is over. */
    for (int i = 0; i < w.n; i++) {
        argv[i][w.lens[i]] = '\0';
    }
    return w.n;
}

int
conf_set_runtime(const struct conf_option *o, char *value, char *err, size_t errlen)
{
    char *argv[CONF_LINE_ARGS];
    int argc = 1;

    if (!(o->flags & CONF_RUNTIME)) {
        snprintf(err, errlen, "can't set immutable config");
        return SC_ERR;
    }
    argv[0] = value;
    if (o->type == CONF_CUSTOM) {
        /* A custom value may have several words ("normal 0 0 0"). */
        argc = split_words(value, argv);
        if (argc < 0) {
            snprintf(err, errlen, "unbalanced quotes");
            return SC_ERR;
        }
    }
    if (set_value(o, argc, argv, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    return o->apply != NULL ? o->apply(o, err, errlen) : SC_OK;
}

size_t
conf_get(const struct conf_option *o, char *buf, size_t len)
{
    int n = 0;

    switch (o->type) {
    case CONF_BOOL:
        n = snprintf(buf, len, "%s", *(bool *)o->ptr ? "yes" : "no");
        break;
    case CONF_INT:
        n = snprintf(buf, len, "%lld", *(long long *)o->ptr);
        break;
    case CONF_MEM:
        n = snprintf(buf, len, "%llu", *(unsigned long long *)o->ptr);
        break;
    case CONF_STR: {
        const char *s = *(char **)o->ptr;
        n = snprintf(buf, len, "%s", s != NULL ? s : "");
        break;
    }
    case CONF_ENUM:
        for (const struct conf_enum *e = o->enums; e->name != NULL; e++) {
            if (e->value == *(int *)o->ptr) {
                n = snprintf(buf, len, "%s", e->name);
                break;
            }
        }
        break;
    case CONF_CUSTOM:
        return o->get(o, buf, len);
    }
    return n < 0 ? 0 : MIN((size_t)n, len - 1);
}

void
conf_defaults(const struct conf_option *opts)
{
    char err[256];

    for (const struct conf_option *o = opts; o->name != NULL; o++) {
        if (o->def == NULL) {
            continue;
        }
        char *copy = mem_strdup(o->def);
        char *argv[CONF_LINE_ARGS];
        int argc = 1;
        argv[0] = copy;
        if (o->type == CONF_CUSTOM) {
            argc = split_words(copy, argv);
        }
        if (argc < 0 || set_value(o, argc, argv, err, sizeof(err)) != SC_OK) {
            sc_assert_fail(o->name, __FILE__, __LINE__); /* a bad default is a bug */
        }
        mem_free(copy);
    }
}

void
conf_free(const struct conf_option *opts)
{
    for (const struct conf_option *o = opts; o->name != NULL; o++) {
        if (o->type == CONF_STR) {
            mem_free(*(char **)o->ptr);
            *(char **)o->ptr = NULL;
        }
    }
}

int
conf_load_file(const struct conf_option *opts, const char *path, char *err, size_t errlen)
{
    char reason[256];
    char *line = NULL; /* getline's: a proxy's shard lines can be long */
    size_t cap = 0;
    int lineno = 0, rc = SC_OK;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SC_ERR;
    }
    while (getline(&line, &cap, f) != -1) {
        char *argv[CONF_LINE_ARGS];
        char *p = line;

        lineno++;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '#' || *p == '\0') {
            continue;
        }
        int argc = split_words(p, argv);
        if (argc < 0) {
            snprintf(err, errlen, "%s:%d: Unbalanced quotes in configuration line", path, lineno);
            rc = SC_ERR;
            break;
        }
        if (argc == 0) {
            continue;
        }
        if (conf_set_argv(opts, argc, argv, reason, sizeof(reason)) != SC_OK) {
            snprintf(err, errlen, "%s:%d: '%s': %s", path, lineno, argv[0], reason);
            rc = SC_ERR;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

int
conf_load_args(const struct conf_option *opts, int argc, char **argv, char *err, size_t errlen)
{
    char reason[256];
    int i = 0;

    if (argc > 0 && strncmp(argv[0], "--", 2) != 0) {
        if (conf_load_file(opts, argv[0], err, errlen) != SC_OK) {
            return SC_ERR;
        }
        i = 1;
    }
    while (i < argc) {
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
            snprintf(err, errlen, "unexpected argument '%s' (options are --name value)", argv[i]);
            return SC_ERR;
        }
        /* --name takes every word up to the next --name: "--save 900 1". */
        int j = i + 1;
        while (j < argc && strncmp(argv[j], "--", 2) != 0) {
            j++;
        }
        char *name = argv[i] + 2;
        char *words[CONF_LINE_ARGS];
        int n = 0;
        words[n++] = name;
        for (int k = i + 1; k < j && n < CONF_LINE_ARGS; k++) {
            words[n++] = argv[k];
        }
        if (conf_set_argv(opts, n, words, reason, sizeof(reason)) != SC_OK) {
            snprintf(err, errlen, "--%s: %s", name, reason);
            return SC_ERR;
        }
        i = j;
    }
    return SC_OK;
}

void
conf_print_help(const struct conf_option *opts, const char *prog)
{
    printf("Usage: %s [CONFIG-FILE] [--directive value ...]\n\n", prog);
    printf("Directives (config file lines or --flags):\n");
    for (const struct conf_option *o = opts; o->name != NULL; o++) {
        printf("  %-28s %s%s [default: %s]\n", o->name, o->help,
               o->flags & CONF_RUNTIME ? " (CONFIG SET)" : "", o->def != NULL ? o->def : "none");
    }
}
