/* The splice's queue and accounting (see splice.h). Called with the
 * connection's lock held. */
#include <stdlib.h>
#include <string.h>

#include "wire/splice.h"

static void release(struct oa_injection *inj)
{
    if (inj->bytes != NULL && inj->bytes != inj->inline_bytes)
        free(inj->bytes);
    inj->bytes = NULL;
}

static void pop_front(struct oa_splice *sp)
{
    release(oa_splice_slot(sp, sp->first));
    sp->first = (sp->first + 1) % oa_splice_capacity(sp);
    sp->count--;
}

struct oa_injection *oa_splice_reserve(struct oa_splice *sp, size_t need)
{
    unsigned cap = oa_splice_capacity(sp);
    if (sp->count == cap || need > UINT32_MAX)
        return NULL;
    struct oa_injection *inj = oa_splice_slot(sp, (sp->first + sp->count) % cap);
    memset(inj, 0, offsetof(struct oa_injection, inline_bytes));
    inj->bytes = need <= sizeof(inj->inline_bytes) ? inj->inline_bytes : malloc(need);
    return inj->bytes != NULL ? inj : NULL;
}

void oa_splice_commit(struct oa_splice *sp, struct oa_injection *inj, uint64_t at, size_t len, bool replaces)
{
    inj->at = at;
    inj->len = (uint32_t)len;
    inj->sent = 0;
    inj->replaces = replaces;
    sp->count++;
}

void oa_splice_cancel_last(struct oa_splice *sp)
{
    if (sp->count == 0)
        return;
    release(oa_splice_at(sp, sp->count - 1));
    sp->count--;
}

static bool queue_copy(struct oa_splice *sp, uint64_t at, const void *bytes, size_t len, bool replaces)
{
    struct oa_injection *inj = oa_splice_reserve(sp, len);
    if (inj == NULL)
        return false;
    memcpy(inj->bytes, bytes, len);
    oa_splice_commit(sp, inj, at, len, replaces);
    return true;
}

bool oa_splice_insert(struct oa_splice *sp, uint64_t at, const void *bytes, size_t len)
{
    return queue_copy(sp, at, bytes, len, false);
}

bool oa_splice_replace(struct oa_splice *sp, uint64_t at, const void *bytes, size_t len)
{
    /* the program's own bytes must still be ahead: they are what goes out
     * as ours */
    return at >= sp->sent && queue_copy(sp, at, bytes, len, true);
}

/* oa_splice_sent_app when something is owed */
void oa_splice_sent_app_owed(struct oa_splice *sp, size_t n)
{
    sp->sent += n;
    /* a replacement goes out in the place of the program's bytes */
    for (unsigned i = 0; i < sp->count; i++) {
        struct oa_injection *inj = oa_splice_at(sp, i);
        if (inj->replaces && sp->sent > inj->at)
            inj->sent = (uint32_t)(sp->sent - inj->at < inj->len ? sp->sent - inj->at : inj->len);
    }
    /* parse-ahead never lags what was sent, unless parsing stopped */
    if (sp->parsed < sp->sent)
        sp->parsed = sp->sent;
}

void oa_splice_sent_injection(struct oa_splice *sp, unsigned i, size_t n)
{
    struct oa_injection *inj = oa_splice_at(sp, i);
    if (inj != NULL)
        inj->sent += (uint32_t)n;
}

bool oa_splice_settle(struct oa_splice *sp)
{
    while (sp->count > 0 && oa_splice_slot(sp, sp->first)->sent >= oa_splice_slot(sp, sp->first)->len)
        pop_front(sp);
    return sp->count == 0;
}

void oa_splice_skip(struct oa_splice *sp, size_t n)
{
    sp->parsed += n;
    sp->sent += n;
}

bool oa_splice_drop_unsent(struct oa_splice *sp)
{
    while (sp->count > 0) {
        struct oa_injection *last = oa_splice_at(sp, sp->count - 1);
        if (last->sent > 0)
            break;
        /* splices that go together stay when the first of them began, or
         * went out whole (it is no longer queued) */
        unsigned head = sp->count - 1;
        while (head > 0 && oa_splice_at(sp, head)->with_previous)
            head--;
        if (oa_splice_at(sp, head)->with_previous || oa_splice_at(sp, head)->sent > 0)
            break;
        release(last);
        sp->count--;
    }
    return sp->count == 0;
}

void oa_splice_release_all(struct oa_splice *sp)
{
    for (unsigned i = 0; i < sp->count; i++)
        release(oa_splice_at(sp, i));
    sp->count = 0;
}
