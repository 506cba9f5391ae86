/*
 * reply.c -- see reply.h.
 */
#include "common/reply.h"

#include "common/defs.h"
#include "common/resp.h"

#include <stdio.h>
#include <string.h>

/* redis prints arguments with %s from NUL-terminated strings: an argument
 * with a NUL byte shows up to it, and so does ours. */
static int
printable_len(const struct bstr *s, size_t max)
{
    const char *nul = memchr(s->data, '\0', s->len);
    size_t n = nul != NULL ? (size_t)(nul - s->data) : s->len;
    return (int)MIN(n, max);
}

void
reply_arity(struct bufq *q, const char *name)
{
    resp_add_errorf(q, "ERR wrong number of arguments for '%s' command", name);
}

void
reply_unknown_command(struct bufq *q, const struct bstr *argv, int argc)
{
    char args[160];
    size_t n = 0;

    args[0] = '\0';
    for (int i = 1; i < argc && n < 128; i++) {
        int m = snprintf(args + n, sizeof(args) - n, "'%.*s' ",
                         printable_len(&argv[i], 128 - n), argv[i].data);
        if (m < 0) {
            break;
        }
        n += (size_t)m;
    }
    resp_add_errorf(q, "ERR unknown command '%.*s', with args beginning with: %s",
                    printable_len(&argv[0], 128), argv[0].data, args);
}

void
reply_unknown_subcommand(struct bufq *q, const struct bstr *sub, const char *cmd)
{
    resp_add_errorf(q, "ERR unknown subcommand '%.*s'. Try %s HELP.", printable_len(sub, 128),
                    sub->data, cmd);
}
