/* PostgreSQL message framing (pg_framer.h). */
#include <string.h>

#include "protocols/postgres/pg_framer.h"

enum { AT_TYPE = OA_PG_AT_TYPE, AT_LENGTH, AT_BODY };

void oa_pg_framer_init(struct oa_pg_framer *f, char *buf, size_t buf_size, bool untyped)
{
    memset(f, 0, sizeof *f);
    f->buf = buf;
    f->buf_size = (uint32_t)buf_size;
    f->untyped = untyped;
}

void oa_pg_framer_keep(struct oa_pg_framer *f, char type)
{
    unsigned char t = (unsigned char)type;
    f->keep[t >> 5] |= 1u << (t & 31);
}

void oa_pg_framer_expect_untyped(struct oa_pg_framer *f)
{
    f->untyped = true;
}

/* The length field is read: on to the body, or the message is already
 * whole (true, *ev MESSAGE) or the length is bad (true, *ev BAD). */
static inline bool length_read(struct oa_pg_framer *f, enum oa_pg_frame_event *ev)
{
    if (!oa_pg_framer_length_ok(f)) {
        f->bad = true;
        *ev = OA_PG_BAD;
        return true;
    }
    f->len = f->len_value - 4;
    f->state = AT_BODY;
    if (f->len == 0) {
        f->state = AT_TYPE;
        *ev = OA_PG_MESSAGE;
        return true;
    }
    return false;
}

size_t oa_pg_framer_feed_states(struct oa_pg_framer *f, const char *b, size_t n, enum oa_pg_frame_event *ev)
{
    size_t i = 0;
    *ev = OA_PG_NEED_MORE;
    if (f->bad) {
        *ev = OA_PG_BAD;
        return 0;
    }
    while (i < n) {
        switch (f->state) {
        case AT_TYPE:
            if (!f->untyped && n - i >= 5) {
                /* the whole header at hand (the common case): read at once,
                 * not octet by octet through the states below */
                f->type = b[i];
                f->len_value = (uint32_t)(unsigned char)b[i + 1] << 24 | (uint32_t)(unsigned char)b[i + 2] << 16 |
                               (uint32_t)(unsigned char)b[i + 3] << 8 | (unsigned char)b[i + 4];
                f->len_have = 4;
                f->have = 0;
                f->kept = 0;
                i += 5;
                if (length_read(f, ev))
                    return i;
                break;
            }
            f->len_have = 0;
            f->len_value = 0;
            f->have = 0;
            f->kept = 0;
            if (f->untyped) {
                f->type = 0;
                f->untyped = false;
            } else {
                f->type = b[i++];
            }
            f->state = AT_LENGTH;
            break;
        case AT_LENGTH:
            f->len_value = f->len_value << 8 | (unsigned char)b[i++];
            if (++f->len_have < 4)
                break;
            if (length_read(f, ev))
                return i;
            break;
        case AT_BODY: {
            size_t take = n - i;
            if (take > f->len - f->have)
                take = f->len - f->have;
            if (oa_pg_framer_keeps(f) && f->kept < f->buf_size) {
                size_t room = f->buf_size - f->kept;
                size_t copy = take < room ? take : room;
                memcpy(f->buf + f->kept, b + i, copy);
                f->kept += (uint32_t)copy;
            }
            f->have += (uint32_t)take;
            i += take;
            if (f->have == f->len) {
                f->state = AT_TYPE;
                *ev = OA_PG_MESSAGE;
                return i;
            }
            break;
        }
        }
    }
    return i;
}
