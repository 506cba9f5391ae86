/*
 * t_string.h -- what string commands share (redis t_string.c's
 * setGenericCommand and parseExtendedStringArgumentsOrReply), for the
 * families that store strings: SET and friends, GETEX, RENAME's copies.
 */
#pragma once

#include "common/bstr.h"
#include "node/item.h"

#include <stdbool.h>

struct client;

/* SET / GETEX options (redis OBJ_* flags). */
#define STR_NX 0x01
#define STR_XX 0x02
#define STR_GET 0x04
#define STR_KEEPTTL 0x08
#define STR_PERSIST 0x10
#define STR_EX 0x20
#define STR_PX 0x40
#define STR_EXAT 0x80
#define STR_PXAT 0x100

enum str_parse_mode { STR_PARSE_SET, STR_PARSE_GETEX };

/* Parses argv[from..] as SET (or GETEX) options with redis's exact rules
 * for conflicts; *expire is the argument index of the time, 0 if none.
 * Replies "ERR syntax error" and returns SC_ERR on a bad combination. */
int str_parse_options(struct client *c, int from, enum str_parse_mode mode, int *flags,
                      int *expire);
/* Converts the time argument of EX/PX/EXAT/PXAT (per flags) to an absolute
 * ms time, replying "ERR invalid expire time in '<cmd>' command" or the
 * not-an-integer error and returning SC_ERR when it is not valid. */
int str_expire_ms(struct client *c, const struct bstr *arg, int flags, long long *when);

/* Stores val under key.  old is the key's live item (from kv_lookup) or
 * NULL; keepttl keeps old's TTL; expire_ms >= 0 sets one.  Reuses old's
 * allocation when the value fits it snugly.  Counts a change (server.dirty).
 * Returns the stored item, or NULL if memory is short (keyspace unchanged;
 * the caller replies OOM). */
struct item *str_store(const struct bstr *key, const char *val, size_t vlen, enum item_enc enc,
                       struct item *old, bool keepttl, long long expire_ms);

/* For string commands: the live item of key if it is a string (NULL if
 * absent); replies WRONGTYPE and sets *wrongtype when it is not a string. */
struct item *str_lookup(struct client *c, const struct bstr *key, int flags, bool *wrongtype);
