/*
 * fuzz_conf.h -- what the configuration harnesses share (fuzz_conf_node.c,
 * fuzz_conf_proxy.c, fuzz_conf_loader.c: one each, as each binary's header
 * is its own translation unit's).
 *
 * The input is a config file.  It is read as the binary reads it
 * (conf_load_file): the line splitter (quotes, escapes), the directive
 * table with its value parsers (integers, memory units, enums, booleans)
 * and the custom directives behind them.  A file that is refused must say
 * why.  If it is accepted, the binary's own start-up checks run (check),
 * every directive is rendered back through CONFIG GET's path, which must
 * stay inside its buffer and end in a NUL, and the plain directives,
 * written out as a file, must load again: a value accepted once is
 * accepted again.  Everything is freed after each input (LeakSanitizer).
 *
 * Header-only (static inline): each harness is one translation unit.
 */
#pragma once

#include "common/conf.h"
#include "common/log.h"
#include "common/sbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CONF_RENDER_MAX 65536

struct fuzz_conf {
    const struct conf_option *opts;
    void (*defaults)(void); /* conf_defaults and the binary's own set-up */
    void (*check)(void);    /* start-up checks of an accepted file; may be NULL */
    void (*free)(void);     /* frees what the directives stored */
};

/* Writes p[0..n) to an in-memory file and loads it; SC_OK or SC_ERR. */
static inline int
fuzz_conf_load(const struct conf_option *opts, const void *p, size_t n)
{
    char path[64], err[1024];
    int fd = memfd_create("fuzz_conf", MFD_CLOEXEC);

    sc_assert(fd >= 0);
    sc_assert(n == 0 || write(fd, p, n) == (ssize_t)n);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    err[0] = '\0';
    int rc = conf_load_file(opts, path, err, sizeof(err));
    close(fd);
    sc_assert(rc == SC_OK || err[0] != '\0'); /* a refusal always says why */
    return rc;
}

/* Renders every directive; the plain ones go to out as `name "value"` lines
 * (escaped so that any byte survives), custom ones are only bounds-checked:
 * they render in their own multi-line syntax. */
static inline void
fuzz_conf_render(const struct conf_option *opts, struct sbuf *out)
{
    static char value[FUZZ_CONF_RENDER_MAX];

    for (const struct conf_option *o = opts; o->name != NULL; o++) {
        memset(value, 0x7f, sizeof(value));
        size_t n = conf_get(o, value, sizeof(value));
        sc_assert(n < sizeof(value) && value[n] == '\0' && strlen(value) == n);
        if (o->type == CONF_CUSTOM) {
            continue;
        }
        sbuf_printf(out, "%s \"", o->name);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)value[i];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
                sbuf_printf(out, "\\x%02x", c);
            } else {
                sbuf_add(out, value + i, 1);
            }
        }
        sbuf_adds(out, "\"\n");
    }
}

static inline int
fuzz_conf_run(const struct fuzz_conf *fc, const uint8_t *data, size_t size)
{
    log_min_level = LL_NOTHING;
    fc->defaults();
    if (fuzz_conf_load(fc->opts, data, size) == SC_OK) {
        struct sbuf text;
        sbuf_init(&text);
        if (fc->check != NULL) {
            fc->check();
        }
        fuzz_conf_render(fc->opts, &text);
        fc->free();
        fc->defaults();
        sc_assert(fuzz_conf_load(fc->opts, text.data, text.len) == SC_OK);
        sbuf_free(&text);
    }
    fc->free();
    return 0;
}
