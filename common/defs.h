/*
 * defs.h -- status codes and the few macros every slotcache module uses.
 *
 * Functions return an int status (SC_OK or a negative SC_E*) or a pointer
 * (NULL on failure), never a mix; parsers return their own enums.  Detail
 * about a failure lives in the object that failed (an errstr field) and is
 * logged by the caller at the boundary, never inside a library function.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SC_OK 0
#define SC_ERR -1    /* failed; reason in obj->errstr, or errno for a syscall */
#define SC_EAGAIN -2 /* would block / need more bytes; nothing consumed */
#define SC_ENOMEM -3

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define SC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SC_NORETURN __attribute__((noreturn))

/* Assertions stay on in release builds (redis serverAssert): a broken
 * invariant in a cache must stop the process, not corrupt what it serves. */
SC_NORETURN void sc_assert_fail(const char *expr, const char *file, int line);
#define sc_assert(e) (likely(e) ? (void)0 : sc_assert_fail(#e, __FILE__, __LINE__))

#ifdef SC_DEBUG
#define SC_DEBUG_ASSERT(e) sc_assert(e)
#else
#define SC_DEBUG_ASSERT(e) ((void)0)
#endif
