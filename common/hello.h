/*
 * hello.h -- HELLO and AUTH as redis 7 parses and answers them, shared by
 * every server that speaks to clients (node, proxy).  One user exists,
 * "default", whose password is requirepass (none: any password works with
 * AUTH default, as redis's "nopass" default user).
 */
#pragma once

#include "common/bstr.h"

#include <stdbool.h>
#include <stddef.h>

#define HELLO_NOAUTH                                                                               \
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "     \
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "       \
    "protocol version at the same time"
#define AUTH_NO_PASSWORD                                                                           \
    "ERR AUTH <password> called without any password configured for the default user. Are you "   \
    "sure your configuration is correct?"

struct hello {
    long long proto;          /* the version asked for; 0 if none was */
    const struct bstr *user;  /* AUTH user pass, or NULL */
    const struct bstr *pass;
    const struct bstr *name;  /* SETNAME name, or NULL */
};

/* Parses HELLO [protover [AUTH user pass] [SETNAME name]] (argv[0] is
 * HELLO), accepting versions 2..max_proto.  NULL on success, else the error
 * reply's text (static, or written into err). */
const char *hello_parse(const struct bstr *argv, int argc, int max_proto, struct hello *h,
                        char *err, size_t errlen);
/* Whether user (NULL: the default user) logs in with pass. */
bool auth_check(const char *requirepass, const struct bstr *user, const struct bstr *pass);
/* AUTH [user] pass: NULL when it logs in, else the error reply's text. */
const char *auth_command(const char *requirepass, const struct bstr *argv, int argc);
