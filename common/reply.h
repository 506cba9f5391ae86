/*
 * reply.h -- the error replies clients see, with redis-server 7's exact
 * wording, shared by the node and the proxy so that both say the same thing.
 * Clients and their tests match on these texts; change one only together
 * with a differential test that shows redis says it that way.
 *
 * Constants are the text after '-'; resp_add_error() adds the framing.
 */
#pragma once

#include "common/bstr.h"
#include "common/buf.h"

#define ERR_SYNTAX "ERR syntax error"
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_NAN "ERR increment would produce NaN or Infinity"
#define ERR_NO_SUCH_KEY "ERR no such key"
#define ERR_NOAUTH "NOAUTH Authentication required."
#define ERR_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."
#define ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."
#define ERR_MAXCLIENTS "ERR max number of clients reached"
#define ERR_DB_INDEX "ERR DB index is out of range"
#define ERR_SELECT_CLUSTER "ERR SELECT is not allowed in cluster mode"
#define ERR_CLUSTER_DISABLED "ERR This instance has cluster support disabled"
#define ERR_STRING_TOO_LONG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define ERR_OFFSET_RANGE "ERR offset is out of range"
#define ERR_INVALID_EXPIRE_FMT "ERR invalid expire time in '%s' command"
#define ERR_CROSSSLOT "CROSSSLOT Keys in request don't hash to the same slot"
#define ERR_NOPROTO "NOPROTO unsupported protocol version"
#define ERR_PROTOCOL_FMT "ERR Protocol error: %s"

/* "ERR wrong number of arguments for '<name>' command"; name is the
 * lowercase command name, "config|get" for a subcommand, as in redis 7. */
void reply_arity(struct bufq *q, const char *name);
/* "ERR unknown command '<argv0>', with args beginning with: '<a1>' ..." */
void reply_unknown_command(struct bufq *q, const struct bstr *argv, int argc);
/* "ERR unknown subcommand '<sub>'. Try <CMD> HELP." */
void reply_unknown_subcommand(struct bufq *q, const struct bstr *sub, const char *cmd);
