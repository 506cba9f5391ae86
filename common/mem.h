/*
 * mem.h -- the allocator wrapper and the source of used_memory.
 *
 * Every allocation of every binary goes through here so that used_memory is
 * the sum of the usable sizes of live blocks, as redis's zmalloc counts it.
 * The allocator is jemalloc in release builds (linked with -ljemalloc, which
 * replaces malloc) and libc's under the sanitizers (SC_MALLOC_LIBC), as redis
 * builds with MALLOC=libc when SANITIZER is set.
 *
 * mem_alloc and friends abort on OOM: they are for the process's own
 * structures.  mem_try_alloc returns NULL: it is for sizes a client chose,
 * whose failure becomes an error reply.
 */
#pragma once

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t nmemb, size_t size);
void *mem_realloc(void *ptr, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
void *mem_try_alloc(size_t size);
void *mem_try_realloc(void *ptr, size_t size);
void mem_free(void *ptr);

/* Bytes the allocator reserved for a live block (its size class). */
size_t mem_usable(const void *ptr);
/* Sum of mem_usable() over every live block. */
size_t mem_used(void);
/* Resident set size of the process, read from /proc (a syscall: not for the hot path). */
size_t mem_rss(void);
/* "jemalloc-5.3.0" or "libc". */
const char *mem_allocator_name(void);

/* Test hook (hiredis test_allocator_injection): the nth call from now to a
 * mem_try_* function fails; 0 disables. */
void mem_fail_after(long n);
