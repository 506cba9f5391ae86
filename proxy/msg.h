/*
 * msg.h -- one request through the proxy and the reply it gets.
 *
 * A client's requests become messages in the client's queue, in the order
 * they arrived; replies are written from the head of that queue, so they go
 * out in request order whatever order the nodes answer in.  A message sent
 * to a node also sits in that node connection's queue, in send order, which
 * is the order the node replies in (twemproxy's imsg_q/omsg_q).
 *
 * Bytes are not copied on the way through: a message's request is a segment
 * of the client's read buffer and its reply a segment of the node
 * connection's read buffer; each segment holds a reference on its buffer
 * (buf_ref), so the buffer lives until the bytes are written.
 *
 * A request that needs several nodes (MGET across shards, a write to every
 * replica, DBSIZE) is a parent message with fragments: each fragment goes
 * to one node and, when answered, calls its parent's merge function; the
 * parent is answered when its merge says so.  Messages are reference
 * counted (the client's queue holds one reference, each fragment one on its
 * parent) and come from a free list, so the common path allocates nothing.
 */
#pragma once

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>

struct front;
struct member;
struct shard;
struct msg;

/* Bytes in a buffer (b holds a reference), or constant bytes (b NULL). */
struct seg {
    struct buf *b;
    const char *p;
    uint32_t len;
};

/* Called when m's reply is complete (m->rsp set). */
typedef void msg_done_fn(struct msg *m);

#define MSG_DONE 0x01      /* the reply is complete */
#define MSG_FAILED 0x02    /* the proxy failed it (node down, timeout): not a node's reply */
#define MSG_ERROR 0x04     /* the reply is an error reply */
#define MSG_WRITE 0x08     /* a write command */
#define MSG_INLINE 0x10    /* request re-encoded from an inline command */
#define MSG_NIL 0x20       /* the reply is a nil bulk/array */
#define MSG_REPLIED 0x40   /* parent: its reply was given (quorum reached) */
#define MSG_READTHRU 0x80  /* a GET of a key the loader has a route for */
#define MSG_GET 0x100      /* a GET: its nil or value counts as a miss or hit */
#define MSG_SHADOW 0x200   /* a copy of a write for a slot move's target: does not count */

struct msg {
    struct msg *cnext;    /* in the client's queue, or the free list */
    struct msg *bnext;    /* in a node connection's queue */
    struct front *client; /* whose reply this is; NULL once the client left */
    struct msg *parent;   /* a fragment's parent */
    msg_done_fn *on_done;
    void *ctx;            /* for on_done: fragment bookkeeping, internal jobs */
    struct seg req;
    struct seg rsp;
    uint64_t queued_us;   /* when sent to a node: latency and timeouts */
    uint64_t arrived_us;  /* when the client's request was read (latstats) */
    uint32_t refs;
    uint16_t flags;       /* MSG_* */
    uint8_t nretry;       /* read retries on another replica */
    uint8_t lat_class;    /* enum latstats_class */
    uint16_t nreplies;    /* replies the request gets (MULTI..EXEC batch); 0 means 1 */
    uint16_t nskipped;    /* of those, already received and dropped */
    int32_t slot;         /* the keys' slot, -1 when keyless */
    const char *key;      /* GET: its key, inside req (valid while req is held) */
    uint32_t klen;
    uint32_t obuf_len;    /* bytes of rsp counted in its client's output (front.c) */
    struct shard *shard;  /* where it is routed */
    struct member *member; /* the node it was sent to */
    /* parent bookkeeping */
    uint32_t nfrag, ndone, nok;
    long long sum;         /* integer merges */
    void *merge;           /* merge state owned by multikey.c */
};

void msg_setup(void);
void msg_teardown(void);
/* A message with one reference, zeroed; never NULL. */
struct msg *msg_get(void);
static inline struct msg *
msg_ref(struct msg *m)
{
    m->refs++;
    return m;
}
/* Drops a reference; the last one releases the segments and recycles m. */
void msg_put(struct msg **m);
uint64_t msg_in_use(void);

/* Completes m with reply r (taking ownership of r's reference). */
void msg_complete(struct msg *m, struct seg r);
/* Completes m with an error the proxy produced (MSG_FAILED): "-<text>\r\n". */
void msg_fail(struct msg *m, const char *text);

static inline struct seg
seg_const(const char *p, uint32_t len)
{
    struct seg s = {NULL, p, len};
    return s;
}
static inline struct seg
seg_of(struct buf *b, const char *p, uint32_t len)
{
    struct seg s = {buf_ref(b), p, len};
    return s;
}
static inline void
seg_release(struct seg *s)
{
    buf_return(&s->b);
    s->p = NULL;
    s->len = 0;
}
/* A buffer holding exactly bytes [p, p+len) (for replies the proxy builds). */
struct seg seg_copy(const void *p, size_t len);
