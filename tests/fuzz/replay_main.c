/*
 * replay_main.c -- runs a libFuzzer harness over saved inputs without
 * libFuzzer, so `make test` replays the corpus under gcc (release and
 * ASan+UBSan) on machines without clang.
 *
 *   replay_fuzz_x FILE|DIR...
 *
 * Each file argument, and each regular file in each directory argument (in
 * name order), is read whole and passed to LLVMFuzzerTestOneInput once.  A
 * harness reports a broken invariant by aborting (sc_assert), so every input
 * that returns has passed; the last line is "<harness>: N passed, M failed",
 * where failures are inputs that could not be read.
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads path whole; NULL (and a message) if it cannot. */
static uint8_t *
read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t cap = 0, len = 0;

    if (f == NULL) {
        perror(path);
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            cap = cap == 0 ? 4096 : cap * 2;
            uint8_t *p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        perror(path);
        free(data);
        return NULL;
    }
    *size = len;
    return data;
}

/* Runs the harness on one file; returns 1 if it passed, 0 if unreadable. */
static int
replay_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = read_file(path, &size);

    if (data == NULL) {
        return 0;
    }
    /* A copy of exactly size bytes: reading past the input is an ASan error,
     * as under libFuzzer. */
    uint8_t *exact = malloc(size == 0 ? 1 : size);
    if (exact == NULL) {
        free(data);
        return 0;
    }
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 1;
}

/* Skips dot files ("." and "..", editors' leftovers). */
static int
regular_only(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
    char *self = strdup(argv[0]);
    const char *name = basename(self);
    int passed = 0, failed = 0;

    if (strncmp(name, "replay_", 7) == 0) {
        name += 7;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[i])) {
                passed++;
            } else {
                failed++;
            }
            continue;
        }
        struct dirent **ents;
        int n = scandir(argv[i], &ents, regular_only, alphasort);
        if (n < 0) {
            perror(argv[i]);
            failed++;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                free(ents[k]);
                continue;
            }
            if (replay_file(path)) {
                passed++;
            } else {
                failed++;
            }
            free(ents[k]);
        }
        free(ents);
    }
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    free(self);
    return failed != 0;
}
