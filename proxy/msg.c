/*
 * msg.c -- see msg.h.
 */
#include "proxy/msg.h"

#include "common/mem.h"

#include <stdio.h>
#include <string.h>

#define MSG_FREE_MAX 65536 /* messages kept for reuse */

/* Replies the proxy builds are packed into one shared buffer (each segment
 * holds a reference), so ten thousand small errors cost a few chunks, not
 * ten thousand. */
#define SEG_PACK_MAX 4096
static struct buf *pack;

static struct msg *free_list;
static uint64_t nfree, in_use;

void
msg_setup(void)
{
}

void
msg_teardown(void)
{
    buf_return(&pack);
    while (free_list != NULL) {
        struct msg *m = free_list;
        free_list = m->cnext;
        mem_free(m);
    }
    nfree = 0;
}

struct msg *
msg_get(void)
{
    struct msg *m = free_list;

    if (m != NULL) {
        free_list = m->cnext;
        nfree--;
    } else {
        m = mem_alloc(sizeof(*m));
    }
    memset(m, 0, sizeof(*m));
    m->refs = 1;
    m->slot = -1;
    in_use++;
    return m;
}

void
msg_put(struct msg **mp)
{
    struct msg *m = *mp;

    if (m == NULL) {
        return;
    }
    *mp = NULL;
    sc_assert(m->refs > 0);
    if (--m->refs > 0) {
        return;
    }
    seg_release(&m->req);
    seg_release(&m->rsp);
    sc_assert(m->merge == NULL); /* multikey.c frees its state before the last put */
    msg_put(&m->parent);
    in_use--;
    if (nfree < MSG_FREE_MAX) {
        m->cnext = free_list;
        free_list = m;
        nfree++;
    } else {
        mem_free(m);
    }
}

uint64_t
msg_in_use(void)
{
    return in_use;
}

void
msg_complete(struct msg *m, struct seg r)
{
    seg_release(&m->rsp);
    m->rsp = r;
    m->flags |= MSG_DONE;
    if (r.len > 0 && r.p[0] == '-') {
        m->flags |= MSG_ERROR;
    }
    if ((r.len == 5 && memcmp(r.p, "$-1\r\n", 5) == 0) ||
        (r.len == 5 && memcmp(r.p, "*-1\r\n", 5) == 0) || (r.len == 3 && memcmp(r.p, "_\r\n", 3) == 0)) {
        m->flags |= MSG_NIL;
    }
    if (m->on_done != NULL) {
        m->on_done(m);
    }
}


struct seg
seg_copy(const void *p, size_t len)
{
    struct buf *b;

    if (len > SEG_PACK_MAX) {
        b = buf_try_create(len);
        if (b == NULL) {
            return seg_const("-OOM out of memory building a reply\r\n", 37);
        }
        memcpy(b->data, p, len);
        b->wpos = (uint32_t)len;
        struct seg s = {b, b->data, (uint32_t)len};
        return s;
    }
    if (pack == NULL || buf_wsize(pack) < len) {
        buf_return(&pack);
        pack = buf_borrow();
    }
    char *dst = buf_wptr(pack);
    memcpy(dst, p, len);
    pack->wpos += (uint32_t)len;
    return seg_of(pack, dst, (uint32_t)len);
}

void
msg_fail(struct msg *m, const char *text)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "-%s\r\n", text);

    if (n < 0 || (size_t)n >= sizeof(line)) {
        n = (int)sizeof(line) - 1;
        line[n - 2] = '\r';
        line[n - 1] = '\n';
    }
    m->flags |= MSG_FAILED;
    msg_complete(m, seg_copy(line, (size_t)n));
}
