/* Incremental HTTP/1.x parser for one direction of one connection: the
 * requests a connection carries, or its responses. It sees exactly the bytes
 * the program sent or received, in whatever pieces they came, and reports
 * events; it never allocates more than the bounded head buffer and never reads
 * outside the bytes it is given.
 *
 * Usage: loop
 *     while (len > 0) {
 *         size_t n = oa_http1_feed(p, buf, len, &ev);
 *         buf += n; len -= n;
 *         ... handle ev ...
 *     }
 * Each call consumes bytes up to and including the one that produced the
 * event (or all of them for OA_HTTP1_NEED_MORE). It may return 0 consumed
 * bytes only together with an event other than NEED_MORE.
 */
#ifndef OA_HTTP1_PARSER_H
#define OA_HTTP1_PARSER_H

#include "base/common.h"

#define OA_HTTP1_HEAD_MAX (64 * 1024)  /* a longer head => OA_HTTP1_ERROR */
/* Heads up to this size are kept inside the parser: no allocation for them
 * (the hooks may run in a signal handler that interrupted malloc). */
#define OA_HTTP1_HEAD_INLINE 1024
#define OA_HTTP1_MAX_HEADERS 100

enum oa_http1_direction {
    OA_HTTP1_REQUESTS = 0,
    OA_HTTP1_RESPONSES,
};

/* How much of a head is checked and kept.
 *   FULL:  every header line checked as RFC 9112 asks and every header kept
 *          (oa_http1_find sees them all): for the bytes the shim adds to,
 *          and tests.
 *   LIGHT: what tracing relies on, for the program's threads: the start line
 *          and the line structure exactly as in FULL (so NOT_HTTP, the
 *          header line limit, and the event positions are the same), and
 *          the headers of enum oa_http1_known found, checked and kept
 *          exactly as FULL finds them. Any other header line is judged by
 *          its first byte alone: one that cannot begin a known name (only
 *          h t b u x c, either case) is not looked at beyond its '\n'; one
 *          that can is compared with those names, and left alone if it is
 *          none of them. So a head with a fault in a line the shim does not
 *          read (a forbidden byte in a value or a name, no ':') is accepted
 *          here and would be refused by FULL (its span is still built:
 *          its attributes come from lines LIGHT checks as FULL does, see
 *          http_raw_span.h); a line beginning with a control byte, SP or HTAB
 *          (obs-fold: it would continue the line before, which may be a
 *          known header) is refused as in FULL. Whatever FULL accepts,
 *          LIGHT reads the same from it. Never for the bytes the shim adds
 *          to (a client's requests): those are parsed FULL. */
enum oa_http1_mode {
    OA_HTTP1_FULL = 0,
    OA_HTTP1_LIGHT,
};

enum oa_http1_event {
    OA_HTTP1_NEED_MORE = 0,   /* all bytes consumed, nothing to report */
    /* Requests only: the bytes consumed so far end exactly before the first
     * byte of the empty line that terminates the head ('\r' or bare '\n').
     * That is where a header line may be inserted. Reported once per request,
     * with 0 or more bytes consumed; oa_http1_head() already describes the
     * request line and headers seen so far (all of them). Not reported by a
     * parser set oa_http1_without_head_end. */
    OA_HTTP1_HEAD_END_NEXT,
    OA_HTTP1_HEAD_DONE,       /* a complete head was consumed; see oa_http1_head() */
    OA_HTTP1_MESSAGE_DONE,    /* the message (head and body) is complete */
    OA_HTTP1_NOT_HTTP,        /* the first bytes of the stream are not HTTP/1.x */
    OA_HTTP1_ERROR,           /* malformed or over-long; the stream is lost */
};

/* The headers the shim itself reads, recognised once while the head is
 * parsed so that looking one up costs an array index, not a pass over every
 * header with name comparisons. */
enum oa_http1_known {
    OA_HTTP1_H_HOST = 0,
    OA_HTTP1_H_TRACEPARENT,
    OA_HTTP1_H_TRACESTATE,
    OA_HTTP1_H_BAGGAGE,
    OA_HTTP1_H_USER_AGENT,
    OA_HTTP1_H_X_FORWARDED_FOR,
    OA_HTTP1_H_CONTENT_LENGTH,
    OA_HTTP1_H_TRANSFER_ENCODING,
    OA_HTTP1_H_CONNECTION,
    /* the other propagation formats (OTEL_PROPAGATORS b3, b3multi, jaeger) */
    OA_HTTP1_H_B3,
    OA_HTTP1_H_X_B3_TRACEID,
    OA_HTTP1_H_X_B3_SPANID,
    OA_HTTP1_H_X_B3_SAMPLED,
    OA_HTTP1_H_X_B3_FLAGS,
    OA_HTTP1_H_UBER_TRACE_ID,
    OA_HTTP1_H_UBERCTX,       /* every "uberctx-{key}" (a key at least one byte long) */
    OA_HTTP1_H_UPGRADE,       /* a 101's `Upgrade: h2c`: the connection goes on in HTTP/2 */
    OA_HTTP1_H_KNOWN_N,
    OA_HTTP1_H_OTHER = OA_HTTP1_H_KNOWN_N,
};

struct oa_http1_header {
    const char *name;
    size_t name_len;
    const char *value;        /* leading and trailing OWS removed */
    size_t value_len;
};

/* A header as offsets into the head (which is at most OA_HTTP1_HEAD_MAX
 * bytes): 8 bytes each instead of the 32 of struct oa_http1_header, for the
 * 100 a head may have, in each of the two parsers of every connection. */
struct oa_http1_field {
    uint16_t name_at;
    uint16_t name_len;
    uint16_t value_at;
    uint16_t value_len;
};

/* A parsed head. Pointers refer into the parser's head buffer and stay valid
 * until the next oa_http1_feed/oa_http1_eof/oa_http1_reset/oa_http1_park
 * call. */
struct oa_http1_head {
    /* requests */
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    /* responses */
    int status;
    /* both: 0 for HTTP/1.0, 1 for HTTP/1.1 */
    int version_minor;
    /* every header in order (see oa_http1_header_at), offsets from base;
     * in OA_HTTP1_LIGHT only those of enum oa_http1_known */
    const char *base;
    struct oa_http1_field fields[OA_HTTP1_MAX_HEADERS];
    size_t n_headers;
    /* per header: enum oa_http1_known, OA_HTTP1_H_OTHER if none */
    uint8_t known[OA_HTTP1_MAX_HEADERS];
    /* per known header: how many headers have that name, and the first of
     * them ready to read (valid when the count is not 0) */
    uint8_t known_count[OA_HTTP1_H_KNOWN_N];
    struct oa_http1_header known_first[OA_HTTP1_H_KNOWN_N];
    /* framing, derived from the headers */
    bool chunked;
    bool has_content_length;
    uint64_t content_length;
    bool connection_close;    /* "Connection: close", or HTTP/1.0 without keep-alive */
};

enum oa_http1_state {
    OA_HTTP1_S_START = 0,     /* before the first byte of a message */
    OA_HTTP1_S_HEAD,
    OA_HTTP1_S_BODY_LENGTH,
    OA_HTTP1_S_BODY_CHUNKED,
    OA_HTTP1_S_BODY_UNTIL_CLOSE,
    OA_HTTP1_S_OPAQUE,        /* after 101/CONNECT tunnel: everything passes unparsed */
    OA_HTTP1_S_DEAD,          /* not HTTP or error: never parsed again */
};

/* Where a head is parsed to: its header slots and its first
 * OA_HTTP1_HEAD_INLINE bytes (~2.5 KiB). A parser holds one only while it
 * reads a head and its caller looks at it: a connection's parsers take theirs
 * from a shared pool at a head's first byte and give it back once the head
 * is done (oa_http1_park), so an idle keep-alive connection holds none. */
struct oa_http1_work {
    struct oa_http1_head head;
    char head_inline[OA_HTTP1_HEAD_INLINE];
};

struct oa_http1_parser {
    enum oa_http1_direction direction;
    bool light;               /* OA_HTTP1_LIGHT */
    bool head_end_next;       /* requests, unless oa_http1_without_head_end */
    enum oa_http1_state state;
    bool seen_first_message;  /* NOT_HTTP is only reported for the stream's first bytes */
    bool opaque_after_message; /* 101 or a tunnel: opaque once this message is done */
    bool head_done_last;      /* the last event was HEAD_DONE: framing may still be adjusted */
    /* head accumulation (the empty line that ends the head is not stored) */
    char *head_buf;           /* NULL, work->head_inline, or malloc'd for a longer
                               * head (at most OA_HTTP1_HEAD_MAX) */
    size_t head_len;
    size_t head_cap;
    size_t start_line_len;    /* offset in head_buf of the first header line */
    bool head_parsed;         /* head fields filled in, at the start of the empty line */
    uint8_t head_phase;
    uint8_t start_step;       /* start-line validation, one byte at a time */
    uint8_t start_count;
    /* the head's slots and inline bytes: NULL when the parser is between
     * heads and parked (see struct oa_http1_work) */
    struct oa_http1_work *work;
    bool work_owned;          /* taken by the parser itself (no oa_http1_attach) */
    /* body framing */
    enum oa_http1_state body_state; /* where HEAD_DONE leads */
    uint64_t body_remaining;
    int chunk_state;
    uint64_t chunk_remaining;
    size_t chunk_line_len;    /* bounds chunk-size lines and the trailer section */
};

void oa_http1_init(struct oa_http1_parser *p, enum oa_http1_direction dir); /* OA_HTTP1_FULL */
void oa_http1_init_mode(struct oa_http1_parser *p, enum oa_http1_direction dir, enum oa_http1_mode mode);
/* Right after init: requests whose caller adds nothing to them (a server's)
 * get no HEAD_END_NEXT, only their HEAD_DONE, at the same offset and with
 * the same head as otherwise: one event and one call fewer per request. */
void oa_http1_without_head_end(struct oa_http1_parser *p);
/* Frees the head buffer and gives back its work area (one it took itself;
 * an attached one is detached, left to its owner). The parser may be
 * re-initialised afterwards. */
void oa_http1_release(struct oa_http1_parser *p);
/* The work area the next head is parsed into: w, owned by the caller, for a
 * parser that holds none (oa_http1_parked). Without one, a head's first byte
 * takes one from the parser's own pool (tests). */
void oa_http1_attach(struct oa_http1_parser *p, struct oa_http1_work *w);
/* Whether the parser holds no work area. */
static inline bool oa_http1_parked(const struct oa_http1_parser *p)
{
    return p->work == NULL;
}
/* Whether a head is being read: its bytes and slots are needed until it is
 * done, and the parser cannot be parked. */
static inline bool oa_http1_in_head(const struct oa_http1_parser *p)
{
    return p->state == OA_HTTP1_S_HEAD;
}
/* The caller is done with the last head (oa_http1_head's pointers): the
 * parser, not inside a head, lets go of its work area (one it took goes back
 * to its pool) and of a long head's buffer. Returns the area the caller had
 * attached, or NULL. Not inside a head: check oa_http1_in_head first. */
struct oa_http1_work *oa_http1_park(struct oa_http1_parser *p);
/* oa_http1_park of a parser holding the area its caller attached, on a
 * connection's per-request path: inlined, the common case a few stores. */
static inline void oa_http1_detach(struct oa_http1_parser *p)
{
    if (__builtin_expect(p->work_owned || (p->head_buf != NULL && p->head_buf != p->work->head_inline), 0)) {
        oa_http1_park(p);
        return;
    }
    p->head_buf = NULL;
    p->head_len = 0;
    p->head_cap = 0;
    p->work = NULL;
}
/* Releases a long head's buffer and starts over as oa_http1_init_mode would,
 * keeping its work area and without clearing the header slots a new message
 * overwrites: for a parser used again and again. Parses
 * exactly as a fresh one. */
void oa_http1_reset(struct oa_http1_parser *p, enum oa_http1_direction dir, enum oa_http1_mode mode);

/* oa_http1_feed but for the body of a message framed by its length (in
 * oa_http1_feed below): heads, chunks and the rest. */
size_t oa_http1_feed_parse(struct oa_http1_parser *p, const char *buf, size_t len,
                           enum oa_http1_event *ev);

/* Inlined into the callers' loops: a body framed by its length, which every
 * request and response of a keep-alive exchange ends with (a bodiless
 * request's MESSAGE_DONE comes from here with no byte), costs a few tests,
 * not a call. */
static inline size_t oa_http1_feed(struct oa_http1_parser *p, const char *buf, size_t len,
                                   enum oa_http1_event *ev)
{
    if (__builtin_expect(p->state != OA_HTTP1_S_BODY_LENGTH, 0))
        return oa_http1_feed_parse(p, buf, len, ev);
    p->head_done_last = false;
    size_t n = p->body_remaining < len ? (size_t)p->body_remaining : len;
    p->body_remaining -= n;
    if (p->body_remaining != 0) {
        *ev = OA_HTTP1_NEED_MORE;
        return n;
    }
    /* the message is done */
    p->state = p->opaque_after_message ? OA_HTTP1_S_OPAQUE : OA_HTTP1_S_START;
    p->opaque_after_message = false;
    *ev = OA_HTTP1_MESSAGE_DONE;
    return n;
}

/* The head most recently completed (valid after HEAD_DONE, and partially after
 * HEAD_END_NEXT). */
const struct oa_http1_head *oa_http1_head(const struct oa_http1_parser *p);

/* Responses: call right after the HEAD_DONE of a response to a HEAD request
 * (or to a CONNECT answered 2xx: then the stream becomes opaque) so that the
 * framing is right. tunnel=true makes the stream opaque after this message. */
void oa_http1_response_has_no_body(struct oa_http1_parser *p, bool tunnel);

/* 1xx responses other than 101 are interim: HEAD_DONE then MESSAGE_DONE are
 * reported for them and the next response follows. 101 makes the stream
 * opaque after its head. */

/* n body bytes went by without their content being seen (sendfile). Returns
 * the event this produces (NEED_MORE, MESSAGE_DONE, or ERROR if the parser was
 * not inside a body that can absorb n bytes). */
enum oa_http1_event oa_http1_skip(struct oa_http1_parser *p, size_t n);

/* End of stream: MESSAGE_DONE if the message in progress was delimited by
 * the close, ERROR if the stream ended inside a message, NEED_MORE otherwise. */
enum oa_http1_event oa_http1_eof(struct oa_http1_parser *p);

/* Header i (< n_headers) of a head. */
static inline struct oa_http1_header oa_http1_header_at(const struct oa_http1_head *h, size_t i)
{
    const struct oa_http1_field *f = &h->fields[i];
    struct oa_http1_header out = { h->base + f->name_at, f->name_len, h->base + f->value_at, f->value_len };
    return out;
}

/* Case-insensitive header lookup in a head: the first match into *out (if
 * not NULL); false if none. *count (if not NULL) receives the number of
 * headers with that name. */
bool oa_http1_find(const struct oa_http1_head *h, const char *name, struct oa_http1_header *out,
                   size_t *count);

/* The first of the headers the shim reads, by their index, or NULL. */
static inline const struct oa_http1_header *oa_http1_find_known(const struct oa_http1_head *h,
                                                                enum oa_http1_known id,
                                                                size_t *count)
{
    if (count)
        *count = h->known_count[id];
    return h->known_count[id] ? &h->known_first[id] : NULL;
}

#endif
