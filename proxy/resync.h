/*
 * resync.h -- refilling a replica that missed writes while it was down.
 *
 * The target is emptied (FLUSHALL, queued before anything else on its
 * connection), then receives every new write of its shard while the keys
 * are copied from an UP member (the source): SCAN on the source; for each
 * key TYPE, PTTL and its value; then DEL and a write of the value and TTL
 * on the target.  It serves no read until the copy is complete.
 *
 * Why new writes do not get lost or overwritten by an older copy: both
 * connections are FIFO.  A write that reaches the source before the copy
 * reads the key is included in what the copy writes; a write after the
 * copy wrote the key applies on top of it; a key created during the copy
 * gets all its writes on both members.  Only a write that lands while the
 * key's copy is in flight (read from the source, not yet written to the
 * target) could be undone by the copy: those keys are marked and copied
 * again (resync_note_write).  The copy runs a bounded number of keys at a
 * time, so this bookkeeping stays small.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct member;
struct seg;
struct resync;

/* How a slot-move step ended: ok, and the keys it copied or deleted. */
typedef void resync_done_fn(void *ctx, bool ok, uint64_t keys);

void resync_start(struct member *target, struct member *source);
/* The same copy for a move (migrate.h): only keys of the slots in the
 * bitmap, into a target that is not emptied first; done is called once. */
struct resync *resync_copy_slots(struct member *target, struct member *source,
                                 const uint8_t *slots, resync_done_fn *done, void *ctx);
/* Deletes m's keys in the slots of the bitmap (SCAN, then DEL each). */
struct resync *resync_delete_slots(struct member *m, const uint8_t *slots, resync_done_fn *done,
                                   void *ctx);
/* Ends every job (teardown): moves are told they failed. */
void resync_abort_all(void);
/* m went down or left: abandon the resync it is the target or source of. */
void resync_cancel(struct member *m);
/* A write (request bytes req) is being sent to syncing member target. */
void resync_note_write(struct member *target, const struct seg *req);
