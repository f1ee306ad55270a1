/* The HTTP/2 frame layer (see h2_frames.h). */
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/h2_frames.h"

void oa_h2_reader_init(struct oa_h2_reader *r)
{
    memset(r, 0, sizeof(*r));
}

void oa_h2_reader_release(struct oa_h2_reader *r)
{
    free(r->block);
    r->block = NULL;
    r->block_cap = 0;
    r->block_len = 0;
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool block_append(struct oa_h2_reader *r, const uint8_t *p, size_t n)
{
    if (n == 0)
        return true;
    if (n > OA_H2_BLOCK_MAX - r->block_len)
        return false;
    uint32_t need = r->block_len + (uint32_t)n;
    if (need > r->block_cap) {
        uint32_t cap = r->block_cap == 0 ? 1024 : r->block_cap;
        while (cap < need)
            cap *= 2;
        if (cap > OA_H2_BLOCK_MAX)
            cap = OA_H2_BLOCK_MAX;
        uint8_t *grown = realloc(r->block, cap);
        if (grown == NULL)
            return false;
        r->block = grown;
        r->block_cap = cap;
    }
    memcpy(r->block + r->block_len, p, n);
    r->block_len = need;
    return true;
}

static inline bool carries_block(uint8_t type)
{
    return type == OA_H2_HEADERS || type == OA_H2_PUSH_PROMISE || type == OA_H2_CONTINUATION;
}

/* The frame header `h` is whole: check it against what may come now. */
static bool frame_begins(struct oa_h2_reader *r, const uint8_t *h)
{
    r->len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
    r->type = h[3];
    r->flags = h[4];
    r->stream = be32(h + 5) & 0x7fffffffu;
    r->pos = 0;
    r->pad = 0;
    r->pre = 0;
    r->small_have = 0;
    r->frame_at = r->offset - OA_H2_FRAME_HEADER;
    /* a header block continues in CONTINUATION frames of its stream, with
     * nothing else between (§4.3) */
    if (r->in_block != (r->type == OA_H2_CONTINUATION))
        return false;
    if (r->in_block && r->stream != r->block_stream)
        return false;
    switch (r->type) {
    case OA_H2_DATA:
        if (r->stream == 0)
            return false;
        r->pre = (r->flags & OA_H2_PADDED) ? 1 : 0;
        break;
    case OA_H2_HEADERS:
    case OA_H2_PUSH_PROMISE:
        if (r->stream == 0)
            return false;
        r->pre = (uint8_t)(((r->flags & OA_H2_PADDED) ? 1 : 0) +
                           (r->type == OA_H2_HEADERS ? ((r->flags & OA_H2_PRIORITY_FLAG) ? 5 : 0) : 4));
        if (r->len < r->pre)
            return false;
        r->in_block = true;
        r->block_type = r->type;
        r->block_stream = r->stream;
        r->block_end_stream = r->type == OA_H2_HEADERS && (r->flags & OA_H2_END_STREAM);
        r->block_len = 0;
        break;
    case OA_H2_CONTINUATION:
        break;
    case OA_H2_RST_STREAM:
        if (r->len != 4 || r->stream == 0)
            return false;
        break;
    case OA_H2_SETTINGS:
        if (r->len % 6 != 0 || r->stream != 0 || ((r->flags & OA_H2_ACK) && r->len != 0))
            return false;
        break;
    case OA_H2_GOAWAY:
        if (r->len < 8 || r->stream != 0)
            return false;
        break;
    default:
        break;
    }
    return true;
}

/* The block (len octets at bytes) ended with this frame's fragment. */
static bool block_done(struct oa_h2_reader *r, const uint8_t *bytes, uint32_t len, const struct oa_h2_events *ev,
                       void *arg)
{
    r->in_block = false;
    struct oa_h2_block b = {
        .stream = r->block_stream,
        .type = r->block_type,
        .end_stream = r->block_end_stream,
        .bytes = bytes,
        .len = len,
        .last = {.frame_at = r->frame_at, .len = r->len, .flags = r->flags, .pre = r->pre, .pad = r->pad},
    };
    return ev->block(arg, &b);
}

/* The fragment of a block-carrying frame is whole: the block, if it ends. */
static bool fragment_done(struct oa_h2_reader *r, const struct oa_h2_events *ev, void *arg)
{
    if (!(r->flags & OA_H2_END_HEADERS))
        return true;
    return block_done(r, r->block != NULL ? r->block : (const uint8_t *)"", r->block_len, ev, arg);
}

/* The frame's payload is whole. */
static bool frame_ends(struct oa_h2_reader *r, const struct oa_h2_events *ev, void *arg)
{
    switch (r->type) {
    case OA_H2_DATA:
        return ev->data_end(arg, r->stream, r->flags & OA_H2_END_STREAM);
    case OA_H2_RST_STREAM:
        return ev->rst_stream(arg, r->stream, be32(r->small));
    case OA_H2_GOAWAY:
        return ev->goaway(arg, be32(r->small) & 0x7fffffffu, be32(r->small + 4));
    case OA_H2_SETTINGS:
        return ev->settings_end(arg, r->flags & OA_H2_ACK);
    default:
        return true;
    }
}

/* n payload octets at p (n <= what the frame has left). */
static bool payload(struct oa_h2_reader *r, const uint8_t *p, size_t n, const struct oa_h2_events *ev, void *arg)
{
    while (n > 0) {
        uint32_t pos = r->pos;
        if (pos < r->pre) {
            /* pad length first, when PADDED; the rest (priority, promised
             * id) is skipped */
            if (pos == 0 && (r->flags & OA_H2_PADDED) && r->type != OA_H2_CONTINUATION) {
                r->pad = p[0];
                if ((uint32_t)r->pad + r->pre > r->len)
                    return false;
            }
            size_t k = r->pre - pos < n ? r->pre - pos : n;
            r->pos += (uint32_t)k;
            p += k;
            n -= k;
            if (r->pos == r->pre && carries_block(r->type) && r->pos == r->len - r->pad &&
                !fragment_done(r, ev, arg))
                return false;
            continue;
        }
        size_t k = n;
        switch (r->type) {
        case OA_H2_HEADERS:
        case OA_H2_PUSH_PROMISE:
        case OA_H2_CONTINUATION: {
            uint32_t end = r->len - r->pad;
            if (pos < end) {
                if (k > end - pos)
                    k = end - pos;
                r->pos += (uint32_t)k;
                if (pos == r->pre && r->pos == end && r->block_len == 0 && (r->flags & OA_H2_END_HEADERS)) {
                    /* a whole block in one frame, all of it at p (most
                     * heads): read where it lies, not copied */
                    if (k > OA_H2_BLOCK_MAX || !block_done(r, p, (uint32_t)k, ev, arg))
                        return false;
                } else if (!block_append(r, p, k) || (r->pos == end && !fragment_done(r, ev, arg))) {
                    return false;
                }
            } else {
                r->pos += (uint32_t)k; /* padding */
            }
            break;
        }
        case OA_H2_RST_STREAM:
        case OA_H2_GOAWAY:
            for (size_t i = 0; i < k; i++) {
                if (r->small_have < 8)
                    r->small[r->small_have++] = p[i];
            }
            r->pos += (uint32_t)k;
            break;
        case OA_H2_SETTINGS:
            for (size_t i = 0; i < k; i++) {
                r->small[r->small_have++] = p[i];
                if (r->small_have == 6) {
                    r->small_have = 0;
                    uint16_t id = (uint16_t)(r->small[0] << 8 | r->small[1]);
                    if (!ev->setting(arg, id, be32(r->small + 2)))
                        return false;
                }
            }
            r->pos += (uint32_t)k;
            break;
        default:
            r->pos += (uint32_t)k;
            break;
        }
        p += k;
        n -= k;
    }
    return true;
}

bool oa_h2_reader_feed(struct oa_h2_reader *r, const uint8_t *p, size_t n, const struct oa_h2_events *ev, void *arg)
{
    if (r->failed)
        return false;
    while (n > 0) {
        if (!r->in_payload) {
            /* a header whole in this chunk is read where it is; one split
             * across chunks is gathered in r->hdr first */
            const uint8_t *h = p;
            size_t k = OA_H2_FRAME_HEADER - r->hdr_have;
            if (k > n)
                k = n;
            if (r->hdr_have > 0 || k < OA_H2_FRAME_HEADER) {
                memcpy(r->hdr + r->hdr_have, p, k);
                h = r->hdr;
            }
            r->hdr_have = (uint8_t)(r->hdr_have + k);
            r->offset += k;
            p += k;
            n -= k;
            if (r->hdr_have < OA_H2_FRAME_HEADER)
                break;
            r->hdr_have = 0;
            r->in_payload = true;
            if (!frame_begins(r, h))
                goto fail;
            /* a block-carrying frame whose fragment is empty */
            if (r->len == r->pre && carries_block(r->type) && r->pre == 0 && !fragment_done(r, ev, arg))
                goto fail;
        }
        size_t k = r->len - r->pos;
        if (k > n)
            k = n;
        if (!payload(r, p, k, ev, arg))
            goto fail;
        r->offset += k;
        p += k;
        n -= k;
        if (r->pos == r->len) {
            r->in_payload = false;
            if (!frame_ends(r, ev, arg))
                goto fail;
        }
    }
    return true;
fail:
    r->failed = true;
    return false;
}

bool oa_h2_reader_skip(struct oa_h2_reader *r, size_t n, const struct oa_h2_events *ev, void *arg)
{
    /* a DATA frame's padding length is read, never skipped */
    if (r->failed || !r->in_payload || r->type != OA_H2_DATA || r->pos < r->pre || n > r->len - r->pos) {
        r->failed = true;
        return false;
    }
    r->pos += (uint32_t)n;
    r->offset += n;
    if (r->pos == r->len) {
        r->in_payload = false;
        if (!frame_ends(r, ev, arg)) {
            r->failed = true;
            return false;
        }
    }
    return true;
}
