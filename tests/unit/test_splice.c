/* The splice (src/wire/splice.c) on its own: a length-prefixed protocol
 * registered only here, whose messages are [u32 big-endian length][payload]
 * as HTTP/2 frames and PostgreSQL messages are. It inserts bytes inside each
 * outgoing payload and patches the length field with a replacement, so the
 * peer must always read whole, consistent messages (length == payload
 * length), however the program cuts its writes and however few bytes the
 * kernel takes per call; and the program must see its own byte counts. The
 * conversation harness (conversation.h) plays it every way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "wire/splice.h"
#include "oa_test.h"

#define INS "<ins>"
#define INS_LEN (sizeof(INS) - 1)

/* ---- the test protocol ---- */

struct lp_conn {
    struct oa_proto_conn base;
    unsigned char hdr[4];
    unsigned hdr_have;
    uint64_t msg_start;   /* stream offset of the message's length field */
    uint32_t payload_left;
};

static bool lp_detect(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n)
{
    (void)b;
    (void)n;
    return role == OA_ROLE_CLIENT && outgoing;
}

static struct oa_proto_conn *lp_open(enum oa_conn_role role)
{
    (void)role;
    struct lp_conn *x = calloc(1, sizeof(*x));
    return x != NULL ? &x->base : NULL;
}

static void be32(unsigned char *out, uint32_t v)
{
    out[0] = (unsigned char)(v >> 24);
    out[1] = (unsigned char)(v >> 16);
    out[2] = (unsigned char)(v >> 8);
    out[3] = (unsigned char)v;
}

/* A length field is complete at stream offset `end`: grow the message. The
 * part of the field the program already sent (its first write may have
 * ended inside it) cannot be patched; the rest is, if the sent part of the
 * new length is what went out. Both splices or neither. */
static void lp_message(struct lp_conn *x)
{
    uint32_t len = (uint32_t)x->hdr[0] << 24 | (uint32_t)x->hdr[1] << 16 | (uint32_t)x->hdr[2] << 8 | x->hdr[3];
    x->payload_left = len;
    struct oa_splice *sp = &x->base.out;
    if (sp->count + 2 > oa_splice_capacity(sp))
        return;
    unsigned char patched[4];
    be32(patched, len + (uint32_t)INS_LEN);
    size_t from = sp->sent > x->msg_start ? (size_t)(sp->sent - x->msg_start) : 0;
    if (from >= 4 || memcmp(patched, x->hdr, from) != 0)
        return;
    if (!oa_splice_replace(sp, x->msg_start + from, patched + from, 4 - from))
        return;
    if (!oa_splice_insert(sp, x->msg_start + 4 + len / 2, INS, INS_LEN))
        sp->count--; /* the replacement alone would lie about the length */
}

static void lp_feed(struct lp_conn *x, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = x->base.out.parsed++;
        if (x->payload_left > 0) {
            x->payload_left--;
            continue;
        }
        if (x->hdr_have == 0)
            x->msg_start = pos;
        x->hdr[x->hdr_have++] = p[i];
        if (x->hdr_have == 4) {
            x->hdr_have = 0;
            lp_message(x);
        }
    }
}

/* Every outgoing byte once: what an earlier, partly refused call parsed
 * already (parsed - sent) is skipped. */
static void lp_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    struct lp_conn *x = (struct lp_conn *)c->proto;
    uint64_t skip = x->base.out.parsed - x->base.out.sent;
    for (int i = 0; i < iovcnt; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        lp_feed(x, (const unsigned char *)iov[i].iov_base + skip, len - (size_t)skip);
        skip = 0;
    }
}

static void lp_incoming(struct oa_conn *c, const char *b, size_t n)
{
    (void)c;
    (void)b;
    (void)n;
}

static void lp_skipped(struct oa_conn *c, size_t n)
{
    (void)c;
    (void)n;
}

static void lp_conn_only(struct oa_conn *c)
{
    (void)c;
}

static void lp_end(struct oa_conn *c, int err)
{
    (void)c;
    (void)err;
}

static void lp_state_only(struct oa_proto_conn *p)
{
    (void)p;
}

static void lp_free(struct oa_proto_conn *p)
{
    free(p);
}

static const struct oa_protocol length_prefixed = {
    .name = "length-prefixed (test)",
    .detect = lp_detect,
    .open = lp_open,
    .outgoing = lp_outgoing,
    .incoming = lp_incoming,
    .skipped = lp_skipped,
    .eof = lp_conn_only,
    .end = lp_end,
    .give_up = lp_conn_only,
    .disown = lp_state_only,
    .free = lp_free,
};

static const struct oa_protocol *const only_lp[] = {&length_prefixed, NULL};

/* The peer reads messages: every length must frame its payload exactly,
 * and every payload must hold the insertion once. */
static bool peer_reads_messages(int conn, const unsigned char *w, size_t n, char *why, size_t cap)
{
    (void)conn;
    size_t at = 0;
    int k = 0;
    while (at < n) {
        if (n - at < 4) {
            snprintf(why, cap, "message %d: %zu bytes of a length field", k, n - at);
            return false;
        }
        uint32_t len = (uint32_t)w[at] << 24 | (uint32_t)w[at + 1] << 16 | (uint32_t)w[at + 2] << 8 | w[at + 3];
        if (len > n - at - 4) {
            snprintf(why, cap, "message %d: length %u, %zu bytes left", k, len, n - at - 4);
            return false;
        }
        if (len < INS_LEN || memmem(w + at + 4, len, INS, INS_LEN) == NULL) {
            snprintf(why, cap, "message %d: no insertion in its %u bytes", k, len);
            return false;
        }
        at += 4 + len;
        k++;
    }
    return true;
}

#define L(n) "\0\0\0" n

static const struct conversation two_messages = {
    .name = "length-prefixed: two messages in one write, then an empty one and a short one",
    .roles = {OA_ROLE_CLIENT},
    .protocols = only_lp,
    .steps = (const struct conv_step[]){
        SENDS(0, L("\x05") "hello" L("\x03") "abc", .len = 4 + 5 + 4 + 3),
        RECEIVES(0, "ok"),
        SENDS(0, L("\x00") L("\x01") "x", .len = 4 + 4 + 1),
        CONV_DONE},
    .wire = {L("\x0a") "he" INS "llo" L("\x08") "a" INS "bc" L("\x05") INS L("\x06") INS "x"},
    .wire_len = {4 + 10 + 4 + 8 + 4 + 5 + 4 + 6},
    .peer_check = peer_reads_messages,
};

/* A length whose patch carries into another byte of the field: 254 + 5 =
 * 0x0103. A first write that ends inside the field has sent its first bytes;
 * the rest is patched while what went out is what the patch would have been
 * (cuts after byte 1 or 2). A cut after byte 3 has sent the byte the patch
 * changes: that message goes out unpatched and uninserted, a case of its own
 * not stated here. */
static char big[4 + 254];
static char big_wire[4 + 254 + INS_LEN];

static struct conv_step big_steps[] = {
    SENDS(0, big, .len = sizeof(big), .unsplit = "\0\xfe", .unsplit_len = 2),
    CONV_DONE,
};

static const struct conversation carry = {
    .name = "length-prefixed: a patch that carries into another byte of the field",
    .roles = {OA_ROLE_CLIENT},
    .protocols = only_lp,
    .steps = big_steps,
    .wire = {big_wire},
    .wire_len = {sizeof(big_wire)},
    .peer_check = peer_reads_messages,
    .max_k = 300,
};

/* The primitive's rules, directly. */
static void test_rules(void)
{
    struct oa_splice sp;
    memset(&sp, 0, sizeof(sp));
    sp.sent = sp.parsed = 10;
    CHECK(!oa_splice_replace(&sp, 9, "x", 1) && sp.count == 0, "no replacement of bytes already sent");
    CHECK(oa_splice_replace(&sp, 10, "ab", 2) && oa_splice_insert(&sp, 14, "cd", 2) && sp.count == 2,
          "a replacement and an insertion queued");
    /* one byte of the replacement went out: it is finished, the insertion dropped */
    oa_splice_sent_app(&sp, 1);
    CHECK(!oa_splice_drop_unsent(&sp) && sp.count == 1 && oa_splice_at(&sp, 0)->replaces &&
              oa_splice_at(&sp, 0)->sent == 1,
          "giving up keeps the begun replacement, drops the insertion not begun");
    oa_splice_sent_app(&sp, 1);
    CHECK(oa_splice_settle(&sp) && sp.sent == 12, "the replacement settles with the program's bytes");
    oa_splice_release_all(&sp);

    /* splices bound together (a length patched, the insertion it counts,
     * a byte replaced after it): kept or dropped as one */
    memset(&sp, 0, sizeof(sp));
    CHECK(oa_splice_replace(&sp, 0, "LL", 2) && oa_splice_insert(&sp, 8, "cc", 2), "a length and its insertion");
    oa_splice_bind_last(&sp);
    CHECK(oa_splice_replace(&sp, 8, "r", 1), "and a replacement after it");
    oa_splice_bind_last(&sp);
    CHECK(oa_splice_drop_unsent(&sp) && sp.count == 0, "none began: all three dropped");
    CHECK(oa_splice_replace(&sp, 0, "LL", 2) && oa_splice_insert(&sp, 8, "cc", 2), "queued again");
    oa_splice_bind_last(&sp);
    CHECK(oa_splice_replace(&sp, 8, "r", 1), "with the replacement");
    oa_splice_bind_last(&sp);
    oa_splice_sent_app(&sp, 1);
    CHECK(!oa_splice_drop_unsent(&sp) && sp.count == 3, "the length began: the chain stays whole");
    oa_splice_sent_app(&sp, 1);
    oa_splice_settle(&sp);
    CHECK(sp.count == 2 && !oa_splice_drop_unsent(&sp) && sp.count == 2,
          "the length went out whole: the insertion and the replacement still go out");
    oa_splice_release_all(&sp);
    memset(&sp, 0, sizeof(sp));
    CHECK(oa_splice_insert(&sp, 3, "a", 1) && oa_splice_replace(&sp, 5, "LL", 2) && oa_splice_insert(&sp, 9, "cc", 2),
          "an unbound insertion, then a length and its insertion");
    oa_splice_bind_last(&sp);
    oa_splice_sent_app(&sp, 2);
    CHECK(oa_splice_drop_unsent(&sp) && sp.count == 0,
          "program bytes went out but none of the splices: the pair goes, and the insertion before it");
    oa_splice_release_all(&sp);

    memset(&sp, 0, sizeof(sp));
    char large[300];
    memset(large, 'z', sizeof(large));
    struct oa_injection *inj = oa_splice_reserve(&sp, sizeof(large));
    CHECK(inj != NULL && inj->bytes != inj->inline_bytes, "a large splice gets its own buffer");
    memcpy(inj->bytes, large, sizeof(large));
    oa_splice_commit(&sp, inj, 0, sizeof(large), false);
    for (int i = 1; i < OA_SPLICE_INLINE; i++)
        oa_splice_insert(&sp, (uint64_t)i, "y", 1);
    CHECK(sp.count == OA_SPLICE_INLINE && !oa_splice_insert(&sp, 9, "y", 1),
          "a connection's own ring holds OA_SPLICE_INLINE");
    oa_splice_release_all(&sp);
    CHECK(sp.count == 0, "released");

    /* slots lent by the protocol: the ring grows to OA_SPLICE_MAX and wraps
     * across its two parts in stream order */
    struct oa_injection lent[OA_SPLICE_MAX - OA_SPLICE_INLINE];
    memset(&sp, 0, sizeof(sp));
    oa_splice_lend(&sp, lent);
    CHECK(oa_splice_capacity(&sp) == OA_SPLICE_MAX, "lent slots count");
    for (int i = 0; i < OA_SPLICE_MAX; i++)
        oa_splice_insert(&sp, (uint64_t)i * 2, (const char[]){(char)('a' + i)}, 1);
    CHECK(sp.count == OA_SPLICE_MAX && !oa_splice_insert(&sp, 99, "y", 1), "the lent ring holds OA_SPLICE_MAX");
    for (int i = 0; i < OA_SPLICE_MAX - 2; i++)
        oa_splice_sent_injection(&sp, 0, 1), oa_splice_settle(&sp);
    CHECK(sp.count == 2 && oa_splice_at(&sp, 0)->bytes[0] == 'a' + OA_SPLICE_MAX - 2, "settled in order");
    for (int i = 0; i < OA_SPLICE_INLINE + 2; i++)
        oa_splice_insert(&sp, 100 + (uint64_t)i, (const char[]){(char)('A' + i)}, 1);
    bool ordered = sp.count == OA_SPLICE_INLINE + 4;
    for (unsigned i = 2; ordered && i < sp.count; i++)
        ordered = oa_splice_at(&sp, i)->bytes[0] == 'A' + (int)i - 2 && oa_splice_at(&sp, i)->at == 100 + i - 2;
    CHECK(ordered, "the ring wraps from the lent slots into the connection's own in stream order");
    oa_splice_release_all(&sp);
}

int main(void)
{
    test_rules();
    CONV_CHECK(two_messages);

    /* a 254-byte payload: its patched length (259) carries into byte 2 */
    memcpy(big, L("\xfe"), 4);
    for (size_t i = 4; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    memcpy(big_wire, "\0\0\x01\x03", 4);
    memcpy(big_wire + 4, big + 4, 127);
    memcpy(big_wire + 4 + 127, INS, INS_LEN);
    memcpy(big_wire + 4 + 127 + INS_LEN, big + 4 + 127, 127);
    CONV_CHECK(carry);
    TEST_DONE();
}
