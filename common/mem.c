/*
 * mem.c -- allocation with accounting; see mem.h.
 *
 * The count is a plain size_t: each binary allocates from one loop thread.
 * The loader's libpq and the cli's hiredis allocate outside this module; the
 * node, whose used_memory drives eviction, allocates only through it.
 */
#include "common/mem.h"

#include "common/defs.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SC_MALLOC_LIBC
#include <jemalloc/jemalloc.h>
#endif

static size_t used_bytes;
static long fail_countdown;

static void
oom(size_t size)
{
    fprintf(stderr, "slotcache: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

size_t
mem_usable(const void *ptr)
{
    return ptr == NULL ? 0 : malloc_usable_size((void *)ptr);
}

/* For fresh blocks: a non-const pointer, or gcc takes the call for a read
 * of the uninitialised bytes (-Wmaybe-uninitialized under ASan). */
static inline size_t
usable(void *p)
{
    return p == NULL ? 0 : malloc_usable_size(p);
}

void *
mem_try_alloc(size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0) {
        return NULL;
    }
    void *p = malloc(size);
    used_bytes += usable(p);
    return p;
}

void *
mem_try_realloc(void *ptr, size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0) {
        return NULL;
    }
    size_t old = mem_usable(ptr);
    void *p = realloc(ptr, size);
    if (p != NULL) {
        used_bytes = used_bytes - old + usable(p);
    }
    return p;
}

void *
mem_alloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL) {
        oom(size);
    }
    used_bytes += usable(p);
    return p;
}

void *
mem_calloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb, size);
    if (p == NULL) {
        oom(nmemb * size);
    }
    used_bytes += usable(p);
    return p;
}

void *
mem_realloc(void *ptr, size_t size)
{
    size_t old = mem_usable(ptr);
    void *p = realloc(ptr, size);
    if (p == NULL) {
        oom(size);
    }
    used_bytes = used_bytes - old + usable(p);
    return p;
}

char *
mem_strndup(const char *s, size_t n)
{
    char *p = mem_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
mem_strdup(const char *s)
{
    return mem_strndup(s, strlen(s));
}

void
mem_free(void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    used_bytes -= mem_usable(ptr);
    free(ptr);
}

size_t
mem_used(void)
{
    return used_bytes;
}

size_t
mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size, resident;
    size_t rss = 0;

    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%lu %lu", &size, &resident) == 2) {
        rss = resident * (size_t)sysconf(_SC_PAGESIZE);
    }
    fclose(f);
    return rss;
}

const char *
mem_allocator_name(void)
{
#ifdef SC_MALLOC_LIBC
    return "libc";
#else
#define MEM_STR_(x) #x
#define MEM_STR(x) MEM_STR_(x)
    return "jemalloc-" MEM_STR(JEMALLOC_VERSION_MAJOR) "." MEM_STR(
        JEMALLOC_VERSION_MINOR) "." MEM_STR(JEMALLOC_VERSION_BUGFIX);
#endif
}

void
mem_fail_after(long n)
{
    fail_countdown = n;
}
