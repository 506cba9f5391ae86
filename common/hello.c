/*
 * hello.c -- see hello.h.
 */
#include "common/hello.h"

#include "common/conn.h"
#include "common/defs.h"
#include "common/reply.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

const char *
hello_parse(const struct bstr *argv, int argc, int max_proto, struct hello *h, char *err,
            size_t errlen)
{
    int next = 1;

    memset(h, 0, sizeof(*h));
    if (argc >= 2) {
        if (!util_str2ll(argv[1].data, argv[1].len, &h->proto)) {
            return "ERR Protocol version is not an integer or out of range";
        }
        if (h->proto < 2 || h->proto > max_proto) {
            return ERR_NOPROTO;
        }
        next = 2;
    }
    for (int j = next; j < argc; j++) {
        int more = argc - j - 1;
        if (bstr_is(&argv[j], "AUTH") && more >= 2) {
            h->user = &argv[j + 1];
            h->pass = &argv[j + 2];
            j += 2;
        } else if (bstr_is(&argv[j], "SETNAME") && more >= 1) {
            h->name = &argv[++j];
            if (!conn_name_valid(h->name)) {
                return "ERR Client names cannot contain spaces, newlines or special characters.";
            }
        } else {
            snprintf(err, errlen, "ERR Syntax error in HELLO option '%.*s'",
                     (int)MIN(argv[j].len, 128), argv[j].data);
            return err;
        }
    }
    return NULL;
}

bool
auth_check(const char *requirepass, const struct bstr *user, const struct bstr *pass)
{
    if (user != NULL && !bstr_is(user, "default")) {
        return false; /* only the default user exists */
    }
    if (requirepass[0] == '\0') {
        return true;
    }
    return pass->len == strlen(requirepass) && memcmp(pass->data, requirepass, pass->len) == 0;
}

const char *
auth_command(const char *requirepass, const struct bstr *argv, int argc)
{
    if (argc > 3) {
        return ERR_SYNTAX;
    }
    if (argc == 2 && requirepass[0] == '\0') {
        return AUTH_NO_PASSWORD;
    }
    if (!auth_check(requirepass, argc == 3 ? &argv[1] : NULL, &argv[argc - 1])) {
        return ERR_WRONGPASS;
    }
    return NULL;
}
