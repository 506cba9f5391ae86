/*
 * test_conf.c -- redis.conf-style configuration: one option table gives the
 * defaults, the file parser, --flags and CONFIG SET, and its error texts are
 * redis 7's words (CONFIG SET shows them to clients; a bad file line is
 * reported as FILE:LINE: ...).  The table here is the test's own, with one
 * option of each type, so the test does not depend on the node's options.
 */
#define TEST_SUITE "conf"
#include "tests/unit/testhelp.h"

#include "common/conf.h"
#include "common/mem.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

static bool o_daemonize;
static long long o_port;
static unsigned long long o_maxmemory;
static char *o_bind;
static int o_policy;
static long long o_save[4];
static int o_nsave;
static int applied;      /* calls of the apply hook */
static bool apply_fails; /* makes the hook refuse */

static const struct conf_enum policy_names[] = {
    {"volatile-lru", 0},
    {"allkeys-lru", 1},
    {"noeviction", 2},
    {NULL, 0},
};

/* "save" takes pairs of numbers, or "" for none: a directive with a
 * variable number of words. */
static int
set_save(const struct conf_option *opt, int argc, char **argv, char *err, size_t errlen)
{
    (void)opt;
    if (argc == 1 && argv[0][0] == '\0') {
        o_nsave = 0;
        return SC_OK;
    }
    if (argc % 2 != 0 || argc > 4) {
        snprintf(err, errlen, "Invalid save parameters");
        return SC_ERR;
    }
    for (int i = 0; i < argc; i++) {
        o_save[i] = atoll(argv[i]);
    }
    o_nsave = argc;
    return SC_OK;
}

static size_t
get_save(const struct conf_option *opt, char *buf, size_t len)
{
    size_t n = 0;

    (void)opt;
    buf[0] = '\0';
    for (int i = 0; i < o_nsave && n < len; i++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%lld", i > 0 ? " " : "", o_save[i]);
    }
    return MIN(n, len - 1);
}

static int
apply_hook(const struct conf_option *opt, char *err, size_t errlen)
{
    (void)opt;
    applied++;
    if (apply_fails) {
        snprintf(err, errlen, "hook refused");
        return SC_ERR;
    }
    return SC_OK;
}

static const struct conf_option opts[] = {
    CONF_BOOL_OPT("daemonize", &o_daemonize, "no", 0, NULL, "run in the background"),
    CONF_INT_OPT("port", &o_port, "6379", 0, 65535, CONF_RUNTIME, NULL, "TCP port"),
    CONF_MEM_OPT("maxmemory", &o_maxmemory, "0", CONF_RUNTIME, apply_hook, "memory limit"),
    CONF_STR_OPT("bind", &o_bind, "127.0.0.1", 0, NULL, "addresses"),
    CONF_ENUM_OPT("maxmemory-policy", &o_policy, "noeviction", policy_names, CONF_RUNTIME,
                  apply_hook, "eviction policy"),
    CONF_CUSTOM_OPT("save", "", set_save, get_save, CONF_RUNTIME, NULL, "snapshots"),
    CONF_END,
};

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *
write_file(const char *text)
{
    static char path[64];

    snprintf(path, sizeof(path), "/tmp/sc-test-conf-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        return NULL;
    }
    ssize_t w = write(fd, text, strlen(text));
    close(fd);
    return w == (ssize_t)strlen(text) ? path : NULL;
}

/* Loads text as a config file; err gets the message with the path replaced
 * by "FILE" so expectations do not depend on the temporary name. */
static int
load_text(const char *text, char *err, size_t errlen)
{
    char raw[512] = "";
    const char *path = write_file(text);

    if (path == NULL) {
        snprintf(err, errlen, "cannot write a temporary file");
        return SC_ERR;
    }
    int rc = conf_load_file(opts, path, raw, sizeof(raw));
    size_t pl = strlen(path);
    if (strncmp(raw, path, pl) == 0) {
        snprintf(err, errlen, "FILE%s", raw + pl);
    } else {
        snprintf(err, errlen, "%s", raw);
    }
    unlink(path);
    return rc;
}

static void
reset(void)
{
    conf_free(opts);
    conf_defaults(opts);
    applied = 0;
    apply_fails = false;
}

static const char *
get(const char *name)
{
    static char buf[128];
    conf_get(conf_find(opts, name), buf, sizeof(buf));
    return buf;
}

static void
test_defaults_and_get(void)
{
    reset();
    CHECK(!o_daemonize && o_port == 6379 && o_maxmemory == 0 && o_policy == 2 && o_nsave == 0);
    CHECK_STR(o_bind, "127.0.0.1");
    CHECK_STR(get("daemonize"), "no");
    CHECK_STR(get("port"), "6379");
    CHECK_STR(get("maxmemory"), "0");
    CHECK_STR(get("bind"), "127.0.0.1");
    CHECK_STR(get("maxmemory-policy"), "noeviction");
    CHECK_STR(get("save"), "");
    CHECK(conf_find(opts, "MAXMEMORY") == &opts[2]); /* names are case-insensitive */
    CHECK(conf_find(opts, "nosuch") == NULL);
    char small[4];
    CHECK_INT(conf_get(conf_find(opts, "bind"), small, sizeof(small)), 3); /* truncated, counted */
    CHECK_STR(small, "127");
}

static void
test_file_parsing(void)
{
    char err[512] = "";

    reset();
    int rc = load_text("# a comment\n"
                       "\n"
                       "   \t\n"
                       "  # an indented comment\n"
                       "daemonize YES\n"
                       "Port 7001\n"
                       "maxmemory 2mb\n"
                       "bind \"10.0.0.1 ::1\"\n"
                       "maxmemory-policy AllKeys-LRU\n"
                       "save 900 1 300 10\n"
                       "  port   7002  \r\n",
                       err, sizeof(err));
    CHECK_INT(rc, SC_OK);
    CHECK_STR(err, "");
    CHECK(o_daemonize);
    CHECK_INT(o_port, 7002); /* the last line wins; CRLF and blanks around are fine */
    CHECK_INT(o_maxmemory, 2 * 1024 * 1024);
    CHECK_STR(o_bind, "10.0.0.1 ::1");
    CHECK_INT(o_policy, 1);
    CHECK_STR(get("maxmemory-policy"), "allkeys-lru");
    CHECK_INT(o_nsave, 4);
    CHECK_STR(get("save"), "900 1 300 10");
    CHECK_INT(applied, 0); /* loading a file does not run apply hooks */

    /* quoting: single quotes, escapes, an empty argument */
    rc = load_text("bind 'a b'\nsave \"\"\n", err, sizeof(err));
    CHECK_INT(rc, SC_OK);
    CHECK_STR(o_bind, "a b");
    CHECK_INT(o_nsave, 0);
    rc = load_text("bind \"\\x41\\x42\"\n", err, sizeof(err));
    CHECK(rc == SC_OK && strcmp(o_bind, "AB") == 0);
}

/* Loads one line as line 3 of a file and returns the error text. */
static const char *
bad_line(const char *line)
{
    static char err[512];
    char text[256];

    snprintf(text, sizeof(text), "# first\nport 7000\n%s\nport 7100\n", line);
    err[0] = '\0';
    if (load_text(text, err, sizeof(err)) == SC_OK) {
        return "(accepted)";
    }
    return err;
}

static void
test_file_errors(void)
{
    reset();
    CHECK_STR(bad_line("nosuch 1"), "FILE:3: 'nosuch': Bad directive or wrong number of arguments");
    CHECK_INT(o_port, 7000); /* stops at the bad line */
    CHECK_STR(bad_line("port 70000"),
              "FILE:3: 'port': argument must be between 0 and 65535 inclusive");
    CHECK_STR(bad_line("port -1"),
              "FILE:3: 'port': argument must be between 0 and 65535 inclusive");
    CHECK_STR(bad_line("port abc"), "FILE:3: 'port': argument couldn't be parsed into an integer");
    CHECK_STR(bad_line("port +1"), "FILE:3: 'port': argument couldn't be parsed into an integer");
    CHECK_STR(bad_line("port 1 2"), "FILE:3: 'port': wrong number of arguments");
    CHECK_STR(bad_line("port"), "FILE:3: 'port': wrong number of arguments");
    CHECK_STR(bad_line("daemonize maybe"), "FILE:3: 'daemonize': argument must be 'yes' or 'no'");
    CHECK_STR(bad_line("maxmemory 1xb"), "FILE:3: 'maxmemory': argument must be a memory value");
    CHECK_STR(bad_line("maxmemory -1"), "FILE:3: 'maxmemory': argument must be a memory value");
    CHECK_STR(bad_line("maxmemory-policy lru"),
              "FILE:3: 'maxmemory-policy': argument(s) must be one of the following: "
              "volatile-lru, allkeys-lru, noeviction");
    CHECK_STR(bad_line("save 900"), "FILE:3: 'save': Invalid save parameters");
    CHECK_STR(bad_line("bind \"unterminated"), "FILE:3: Unbalanced quotes in configuration line");
    CHECK_STR(bad_line("bind \"a\"b"), "FILE:3: Unbalanced quotes in configuration line");
    CHECK_STR(bad_line("port 7200"), "(accepted)");
    CHECK_INT(o_port, 7100);

    char err[256];
    CHECK(conf_load_file(opts, "/nonexistent/slotcache.conf", err, sizeof(err)) == SC_ERR);
    CHECK_STR(err, "/nonexistent/slotcache.conf: No such file or directory");
}

/* conf_load_args over copies of words (main()'s argv is writable). */
static int
load_args(const char *const *words, int n, char *err, size_t errlen)
{
    char copy[8][64];
    char *argv[8];

    for (int i = 0; i < n && i < 8; i++) {
        snprintf(copy[i], sizeof(copy[i]), "%s", words[i]);
        argv[i] = copy[i];
    }
    err[0] = '\0';
    return conf_load_args(opts, n, argv, err, errlen);
}

static void
test_args(void)
{
    char err[512] = "";
    const char *path = write_file("port 7001\nbind 10.0.0.1\n");

    reset();
    CHECK(path != NULL);
    const char *all[] = {path, "--port", "7005", "--save", "900", "1", "--DAEMONIZE", "yes"};
    CHECK_INT(load_args(all, 8, err, sizeof(err)), SC_OK);
    CHECK_INT(o_port, 7005); /* flags apply after the file */
    CHECK_STR(o_bind, "10.0.0.1");
    CHECK_INT(o_nsave, 2);
    CHECK(o_daemonize);
    unlink(path);

    reset();
    /* "stray" is one more word for --port: wrong number of arguments */
    const char *bare[] = {"--port", "7006", "stray"};
    CHECK_INT(load_args(bare, 3, err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "--port: wrong number of arguments");

    const char *unknown[] = {"--nosuch", "1"};
    CHECK_INT(load_args(unknown, 2, err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "--nosuch: Bad directive or wrong number of arguments");

    const char *dashdash[] = {"--port", "7007", "--"};
    CHECK_INT(load_args(dashdash, 3, err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "unexpected argument '--' (options are --name value)");

    const char *badval[] = {"--port", "x"};
    CHECK_INT(load_args(badval, 2, err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "--port: argument couldn't be parsed into an integer");

    const char *missing[] = {"/nonexistent/x.conf", "--port", "1"};
    CHECK_INT(load_args(missing, 3, err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "/nonexistent/x.conf: No such file or directory");

    reset();
    CHECK_INT(load_args(NULL, 0, err, sizeof(err)), SC_OK);
    CHECK_INT(o_port, 6379);
}

static int
set_rt(const char *name, const char *value, char *err, size_t errlen)
{
    char v[128];
    snprintf(v, sizeof(v), "%s", value);
    err[0] = '\0';
    return conf_set_runtime(conf_find(opts, name), v, err, errlen);
}

static void
test_runtime(void)
{
    char err[256];

    reset();
    CHECK_INT(set_rt("maxmemory", "1gb", err, sizeof(err)), SC_OK);
    CHECK_INT(o_maxmemory, 1ULL << 30);
    CHECK_STR(get("maxmemory"), "1073741824");
    CHECK_INT(applied, 1); /* CONFIG SET runs the hook */

    CHECK_INT(set_rt("daemonize", "yes", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "can't set immutable config");
    CHECK(!o_daemonize);

    CHECK_INT(set_rt("port", "65536", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "argument must be between 0 and 65535 inclusive");
    CHECK_INT(o_port, 6379); /* unchanged */
    CHECK_INT(set_rt("port", "65535", err, sizeof(err)), SC_OK);
    CHECK_INT(o_port, 65535);

    CHECK_INT(set_rt("maxmemory", "lots", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "argument must be a memory value");
    CHECK_INT(o_maxmemory, 1ULL << 30);
    CHECK_INT(applied, 1); /* no hook for a refused value */

    CHECK_INT(set_rt("maxmemory-policy", "nosuch", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "argument(s) must be one of the following: volatile-lru, allkeys-lru, "
                   "noeviction");
    CHECK_INT(set_rt("maxmemory-policy", "VOLATILE-LRU", err, sizeof(err)), SC_OK);
    CHECK_STR(get("maxmemory-policy"), "volatile-lru");

    /* a custom value of several words, as CONFIG SET save "900 1" */
    CHECK_INT(set_rt("save", "900 1 60 1000", err, sizeof(err)), SC_OK);
    CHECK_STR(get("save"), "900 1 60 1000");
    CHECK_INT(set_rt("save", "\"900 1", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "unbalanced quotes");
    CHECK_INT(set_rt("save", "900", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "Invalid save parameters");

    /* the hook's refusal is reported (the value stays set: hooks undo nothing) */
    apply_fails = true;
    CHECK_INT(set_rt("maxmemory", "100", err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "hook refused");
    CHECK_INT(o_maxmemory, 100);

    /* bool and string option values in CONFIG GET form */
    reset();
    CHECK_STR(get("daemonize"), "no");
    conf_free(opts);
    CHECK(o_bind == NULL);
    CHECK_STR(get("bind"), "");
    conf_defaults(opts);
}

static void
test_set_argv(void)
{
    char err[256];
    char w[3][16];
    char *argv[3] = {w[0], w[1], w[2]};

    reset();
    strcpy(w[0], "PORT");
    strcpy(w[1], "1234");
    CHECK_INT(conf_set_argv(opts, 2, argv, err, sizeof(err)), SC_OK);
    CHECK_INT(o_port, 1234);
    /* the file path: an option CONFIG SET may not change is fine here */
    strcpy(w[0], "daemonize");
    strcpy(w[1], "yes");
    CHECK_INT(conf_set_argv(opts, 2, argv, err, sizeof(err)), SC_OK);
    CHECK(o_daemonize);
    strcpy(w[0], "bind");
    strcpy(w[1], "x");
    strcpy(w[2], "y");
    CHECK_INT(conf_set_argv(opts, 3, argv, err, sizeof(err)), SC_ERR);
    CHECK_STR(err, "wrong number of arguments");
    conf_free(opts);
}

TEST_MAIN(test_defaults_and_get, test_file_parsing, test_file_errors, test_args, test_runtime,
          test_set_argv)
