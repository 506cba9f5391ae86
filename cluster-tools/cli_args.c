/*
 * cli_args.c -- see cli_args.h.
 */
#include "cluster-tools/cli_args.h"

#include "common/net.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static struct args_opt *
find_opt(struct args_opt *opts, const char *name, size_t len)
{
    for (struct args_opt *o = opts; o->name != NULL; o++) {
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0) {
            return o;
        }
    }
    return NULL;
}

static bool
parse_int(const char *s, long long *out)
{
    return util_str2ll(s, strlen(s), out);
}

/* Stores val (NULL: none given) into o; *used says whether the next word
 * was taken as the value. */
/* ARGS_INT, or ARGS_OPT_INT given a number: the value, within bounds. */
static int
set_int(struct args_opt *o, const char *val, struct cli_err *err)
{
    long long ll;

    if (val == NULL) {
        return cli_fail(err, "--%s needs a value", o->name);
    }
    if (!parse_int(val, &ll) || ll < o->min || ll > o->max) {
        return cli_fail(err, "--%s: expected a whole number from %lld to %lld, got '%s'", o->name,
                        o->min, o->max, val);
    }
    *(long long *)o->dst = ll;
    return SC_OK;
}

/* Stores val (the inline "=value", else the next word, NULL if none) into
 * o; *used says whether the next word was taken as the value. */
static int
set_opt(struct args_opt *o, const char *val, bool inline_val, bool *used, struct cli_err *err)
{
    long long ll;
    bool takes_word = true;

    if (!inline_val && val != NULL && strncmp(val, "--", 2) == 0) {
        val = NULL; /* "--out --mode x": the next option is not --out's value */
    }
    switch (o->type) {
    case ARGS_FLAG:
        if (inline_val) {
            return cli_fail(err, "--%s takes no value", o->name);
        }
        *(bool *)o->dst = true;
        takes_word = false;
        break;
    case ARGS_OPT_INT:
        /* The next word is its value only if it is a number. */
        if (!inline_val && (val == NULL || !parse_int(val, &ll))) {
            *(long long *)o->dst = o->implied;
            takes_word = false;
        } else if (set_int(o, val, err) != SC_OK) {
            return SC_ERR;
        }
        break;
    case ARGS_INT:
        if (set_int(o, val, err) != SC_OK) {
            return SC_ERR;
        }
        break;
    case ARGS_STR:
        if (val == NULL) {
            return cli_fail(err, "--%s needs a value", o->name);
        }
        *(const char **)o->dst = val;
        break;
    }
    *used = takes_word && !inline_val;
    o->seen = true;
    return SC_OK;
}

int
args_parse(struct args_opt *opts, int argc, char **argv, char **pos, int maxpos, int *npos,
           struct cli_err *err)
{
    bool options = true;

    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = false;
            continue;
        }
        if (!options || strncmp(a, "--", 2) != 0) {
            if (*npos == maxpos) {
                return cli_fail(err, "unexpected argument '%s'", a);
            }
            pos[(*npos)++] = argv[i];
            continue;
        }
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
        struct args_opt *o = find_opt(opts, a + 2, nlen);
        if (o == NULL) {
            return cli_fail(err, "unknown option '%.*s'", (int)(nlen + 2), a);
        }
        const char *val = eq != NULL ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
        bool used = false;
        if (set_opt(o, val, eq != NULL, &used, err) != SC_OK) {
            return SC_ERR;
        }
        i += used ? 1 : 0;
    }
    return SC_OK;
}

int
args_hostport(const char *s, const char *def_host, char *host, size_t hostlen, int *port,
              const char *what, struct cli_err *err)
{
    long long p;

    if (strchr(s, ':') == NULL) {
        if (!parse_int(s, &p) || p < 1 || p > 65535) {
            return cli_fail(err, "%s: '%s' is not a port or HOST:PORT", what, s);
        }
        snprintf(host, hostlen, "%s", def_host);
        *port = (int)p;
        return SC_OK;
    }
    if (!net_parse_hostport(s, host, hostlen, port) || *port < 1 || *port > 65535 ||
        host[0] == '\0') {
        return cli_fail(err, "%s: '%s' is not HOST:PORT", what, s);
    }
    return SC_OK;
}
