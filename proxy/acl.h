/*
 * acl.h -- named users with a role, on the proxy's client side.
 *
 * Redis's ACLs say, per user, which commands and keys; a cache tier's
 * operators mostly need three kinds of client, so the proxy has three roles
 * and no rule language:
 *
 *   readonly   commands that write nothing (GET, MGET, SCAN, INFO, KEYS ...)
 *   readwrite  those and writes (SET, DEL, EXPIRE ...)
 *   admin      everything, including what changes or stops the tier:
 *              commands redis flags admin (CONFIG, CLIENT KILL, SHUTDOWN),
 *              dangerous writes (FLUSHALL, FLUSHDB, RESTORE, SORT) and
 *              PROXY RELOAD / MIGRATE / CONFIG-REWRITE
 *
 * Users are config lines, `user NAME ROLE PASSWORD` (PASSWORD "nopass": any
 * password, as redis's nopass).  The "default" user is the one AUTH <pass>
 * and unauthenticated connections use: admin, with requirepass as its
 * password (none: connections start logged in), unless a `user default`
 * line says otherwise.  Replies are redis 7's: WRONGPASS for a bad login,
 * "NOPERM this user has no permissions to run the 'x' command" for a denied
 * command.  A reload (PROXY RELOAD, SIGHUP) replaces the users; connections
 * of a user that is gone are closed, as redis's ACL DELUSER does.
 */
#pragma once

#include "common/bstr.h"

#include <stdbool.h>
#include <stddef.h>

enum acl_role { ACL_READONLY, ACL_READWRITE, ACL_ADMIN };

#define ACL_USERS_MAX 1024 /* user lines a config may have */

struct acl_user {
    char *name;
    char *pass; /* NULL: nopass */
    enum acl_role role;
    struct acl_user *next;
};

struct pcmd;
struct acl_table;

/* Checks one `user` line's words (NAME ROLE PASSWORD) for the config
 * parser; SC_ERR with err set. */
int acl_check_line(int argc, char **argv, char *err, size_t errlen);
/* A table from `user` lines ("NAME ROLE PASSWORD") and requirepass; NULL
 * with err set (a name twice). */
struct acl_table *acl_build(char **lines, int n, const char *requirepass, char *err,
                            size_t errlen);
/* Makes t the proxy's users and returns the previous table, which the
 * caller frees (acl_free) once its connections are re-pointed (acl_find). */
struct acl_table *acl_install(struct acl_table *t);
/* Frees a table that was not installed (NULL: nothing). */
void acl_free(struct acl_table *t);
void acl_teardown(void);

/* The user a new connection starts as, and whether it is logged in. */
const struct acl_user *acl_default_user(void);
bool acl_starts_logged_in(void);
/* The user named name, or NULL. */
const struct acl_user *acl_find(const char *name, size_t len);
/* AUTH [user] pass, HELLO AUTH: the user, or NULL for WRONGPASS.  user NULL
 * is "default". */
const struct acl_user *acl_login(const struct bstr *user, const struct bstr *pass);
/* Whether u may run cmd with these arguments; when not, the NOPERM reply's
 * text goes into err. */
bool acl_allows(const struct acl_user *u, const struct pcmd *cmd, const struct bstr *argv,
                int argc, char *err, size_t errlen);
const char *acl_role_name(enum acl_role r);
/* Every user, for ACL USERS. */
const struct acl_user *acl_users(void);
