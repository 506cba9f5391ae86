/*
 * acl.c -- see acl.h.
 */
#include "proxy/acl.h"

#include "common/defs.h"
#include "common/mem.h"
#include "proxy/cmdtab.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct acl_table {
    struct acl_user *users;
    struct acl_user *dflt;
};

static struct acl_table *current;

static const char *const role_names[] = {"readonly", "readwrite", "admin"};

const char *
acl_role_name(enum acl_role r)
{
    return role_names[r];
}

static int
parse_role(const char *s, enum acl_role *r)
{
    for (size_t i = 0; i < ARRAY_LEN(role_names); i++) {
        if (strcasecmp(s, role_names[i]) == 0) {
            *r = (enum acl_role)i;
            return SC_OK;
        }
    }
    return SC_ERR;
}

int
acl_check_line(int argc, char **argv, char *err, size_t errlen)
{
    enum acl_role r;

    if (argc != 3) {
        snprintf(err, errlen, "user takes NAME ROLE PASSWORD (ROLE readonly, readwrite or admin; "
                              "PASSWORD nopass for none)");
        return SC_ERR;
    }
    if (parse_role(argv[1], &r) != SC_OK) {
        snprintf(err, errlen, "unknown role '%s' (readonly, readwrite or admin)", argv[1]);
        return SC_ERR;
    }
    for (const char *p = argv[0]; *p != '\0'; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            snprintf(err, errlen, "user names cannot contain spaces or control characters");
            return SC_ERR;
        }
    }
    return SC_OK;
}

void
acl_free(struct acl_table *t)
{
    if (t == NULL) {
        return;
    }
    while (t->users != NULL) {
        struct acl_user *u = t->users;
        t->users = u->next;
        mem_free(u->name);
        mem_free(u->pass);
        mem_free(u);
    }
    mem_free(t);
}

static struct acl_user *
table_find(const struct acl_table *t, const char *name, size_t len)
{
    for (struct acl_user *u = t->users; u != NULL; u = u->next) {
        if (strlen(u->name) == len && memcmp(u->name, name, len) == 0) {
            return u;
        }
    }
    return NULL;
}

static struct acl_user *
table_add(struct acl_table *t, const char *name, enum acl_role role, const char *pass)
{
    struct acl_user *u = mem_calloc(1, sizeof(*u));
    u->name = mem_strdup(name);
    u->role = role;
    u->pass = pass != NULL ? mem_strdup(pass) : NULL;
    u->next = t->users;
    t->users = u;
    return u;
}

struct acl_table *
acl_build(char **lines, int n, const char *requirepass, char *err, size_t errlen)
{
    struct acl_table *t = mem_calloc(1, sizeof(*t));

    if (n >= ACL_USERS_MAX) {
        snprintf(err, errlen, "at most %d users", ACL_USERS_MAX - 1);
        acl_free(t);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char name[256], role[32], pass[1024];
        enum acl_role r;
        /* The lines passed acl_check_line: three words without spaces. */
        if (sscanf(lines[i], "%255s %31s %1023s", name, role, pass) != 3 ||
            parse_role(role, &r) != SC_OK) {
            snprintf(err, errlen, "bad user line '%s'", lines[i]);
            acl_free(t);
            return NULL;
        }
        if (table_find(t, name, strlen(name)) != NULL) {
            snprintf(err, errlen, "user '%s' is defined twice", name);
            acl_free(t);
            return NULL;
        }
        table_add(t, name, r, strcmp(pass, "nopass") == 0 ? NULL : pass);
    }
    t->dflt = table_find(t, "default", 7);
    if (t->dflt == NULL) {
        t->dflt = table_add(t, "default", ACL_ADMIN, requirepass[0] != '\0' ? requirepass : NULL);
    }
    return t;
}

struct acl_table *
acl_install(struct acl_table *t)
{
    struct acl_table *old = current;

    current = t;
    return old;
}

void
acl_teardown(void)
{
    acl_free(current);
    current = NULL;
}

const struct acl_user *
acl_default_user(void)
{
    return current->dflt;
}

bool
acl_starts_logged_in(void)
{
    return current->dflt->pass == NULL;
}

const struct acl_user *
acl_find(const char *name, size_t len)
{
    return table_find(current, name, len);
}

const struct acl_user *
acl_users(void)
{
    return current->users;
}

/* Compares every byte whatever the first difference: how long a refusal
 * takes says nothing about the password. */
static bool
same_secret(const char *secret, const struct bstr *given)
{
    size_t n = strlen(secret);
    unsigned char diff = (unsigned char)(n != given->len);

    for (size_t i = 0; i < given->len; i++) {
        diff |= (unsigned char)(secret[i % (n > 0 ? n : 1)] ^ given->data[i]);
    }
    return diff == 0 && n == given->len;
}

const struct acl_user *
acl_login(const struct bstr *user, const struct bstr *pass)
{
    const struct acl_user *u =
        user != NULL ? table_find(current, user->data, user->len) : current->dflt;

    if (u == NULL || (u->pass != NULL && !same_secret(u->pass, pass))) {
        return NULL;
    }
    return u;
}

/* What the role may not run: admin commands for all but admins, and writes
 * (dangerous ones for readwrite, all of them for readonly). */
static bool
role_allows(enum acl_role role, uint32_t flags)
{
    if (role == ACL_ADMIN) {
        return true;
    }
    if (flags & PCMD_ADMIN) {
        return false;
    }
    if (flags & PCMD_WRITE) {
        return role == ACL_READWRITE && !(flags & PCMD_DANGEROUS);
    }
    return true;
}

bool
acl_allows(const struct acl_user *u, const struct pcmd *cmd, const struct bstr *argv, int argc,
           char *err, size_t errlen)
{
    const struct pcmd *run = cmd;

    if (u->role == ACL_ADMIN) {
        return true;
    }
    if ((cmd->flags & PCMD_CONTAINER) && argc >= 2) {
        const struct pcmd *sub = cmdtab_subcommand(cmd, &argv[1]);
        if (sub != NULL) {
            run = sub;
        }
    }
    if (role_allows(u->role, run->flags)) {
        return true;
    }
    snprintf(err, errlen, "NOPERM this user has no permissions to run the '%s' command",
             run->name);
    return false;
}
