/*
 * util.h -- number and string conversions with redis's exact rules.
 *
 * Clients see these rules (which strings INCR accepts, how INCRBYFLOAT prints,
 * what "1gb" means in CONFIG SET), so they follow redis-server 7 to the letter:
 * util_str2ll rejects "+1", " 1", "01" and "-0" as string2ll does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest decimal long long including sign: 20 chars; 21 with NUL. */
#define UTIL_LL_STR_SIZE 21
/* Big enough for util_ld2str (redis MAX_LONG_DOUBLE_CHARS). */
#define UTIL_LD_STR_SIZE 5 * 1024

/* Strict decimal parse; true on success. */
bool util_str2ll(const char *s, size_t len, long long *out);
bool util_str2ull(const char *s, size_t len, unsigned long long *out);
/* Writes the decimal form of v to dst (no NUL) and returns its length. dst
 * must hold UTIL_LL_STR_SIZE bytes. */
size_t util_ll2str(char *dst, long long v);
size_t util_ull2str(char *dst, unsigned long long v);

/* Parses a long double as redis's string2ld: no leading space, no NaN, the
 * whole string consumed; true on success. */
bool util_str2ld(const char *s, size_t len, long double *out);
/* redis ld2string(..., LD_STR_HUMAN): "%.17Lf" with trailing zeros removed.
 * Returns the length, 0 if it did not fit. */
size_t util_ld2str(char *dst, size_t cap, long double v);
/* Parses a double as redis's string2d (strtod, whole string, no NaN). */
bool util_str2d(const char *s, size_t len, double *out);
/* Formats a double the way redis replies with one ("%.17g", inf, -inf, nan). */
size_t util_d2str(char *dst, size_t cap, double v);

/* Memory sizes as redis.conf writes them: "100", "1k" (1000), "1kb" (1024),
 * "2mb", "1g", "1gb"; case-insensitive.  true on success. */
bool util_str2mem(const char *s, unsigned long long *out);

/* Splits a line into arguments in place, as redis's sdssplitargs does
 * (blanks separate; "..." with \n \r \t \b \a \xHH escapes; '...' with \').
 * Each argument is decoded within the line (decoding never lengthens text)
 * and passed to fn as a pointer into `line`; a NUL byte ends the line as it
 * does in redis.  Returns the number of arguments, or -1 on unbalanced quotes
 * (fn may have been called for earlier arguments: discard them). */
typedef void util_arg_fn(void *ctx, char *arg, size_t len);
int util_split_args(char *line, size_t len, util_arg_fn *fn, void *ctx);

/* Glob match as redis's stringmatchlen: * ? [abc] [^a-z] and \ escapes. */
bool util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase);

/* FNV-1a over the lowercased bytes: command tables hash each request's
 * first word with it, so it is on the hot path and allocates nothing. */
uint32_t util_nocase_hash(const char *s, size_t len);
/* Whether s[0..len) equals the lowercase NUL-terminated name, ignoring case. */
bool util_nocase_eq_lower(const char *name, const char *s, size_t len);

/* Case-insensitive compare of a counted string with a C string literal. */
bool util_eq_nocase(const char *s, size_t len, const char *lit);

/* Milliseconds and microseconds since the epoch, from the real-time clock.
 * A syscall: the loops use their cached time (clock.h), not these. */
long long util_ustime(void);
long long util_mstime(void);
