/* The replies a Redis server sends, RESP2 and RESP3, parsed incrementally
 * with bounded memory: aggregates (`* % ~ > |`) are a stack of counts,
 * bulk payloads (`$ ! =`) are counted, never buffered; of a reply only a
 * summary is kept, enough to match it to its command:
 *   - its type (after any attribute `|`, which precedes the reply it
 *     describes and is not part of it), whether it is a push `>`, or null;
 *   - the first bytes of its first string (the reply itself when it is a
 *     string or error, else its aggregate's first element when that is a
 *     string): an error's code, a pub/sub message's kind;
 *   - the last integer directly inside a top-level aggregate (a pub/sub
 *     confirmation's subscription count).
 * Streamed aggregates and strings (`?` lengths) are refused: no Redis
 * server sends them. Safe to feed a byte at a time. */
#ifndef OA_RESP_REPLY_H
#define OA_RESP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting beyond this is refused (replies nest 4 or 5 levels at most). */
#define OA_RESP_MAX_DEPTH 32
/* The first string's bytes kept. */
#define OA_RESP_HEAD_MAX 16

enum oa_resp_reply_event {
    OA_RESP_REPLY_NEED_MORE,  /* every byte given was consumed */
    OA_RESP_REPLY_DONE,       /* a whole reply ends at *used */
    OA_RESP_REPLY_ERROR,      /* not RESP: the stream is dead */
};

struct oa_resp_reply {
    char type;                /* its first byte: '+', '-', '*', '%', '>', ... */
    bool is_error;            /* '-' or '!' */
    bool is_null;             /* '_', or a length of -1 */
    bool has_int;
    uint8_t head_len;         /* bytes in head */
    char head[OA_RESP_HEAD_MAX];
    int64_t last_int;         /* valid when has_int */
};

struct oa_resp_frame {
    uint64_t left;            /* elements still to come */
    bool attribute;           /* an attribute's pairs: completing it completes no element */
};

struct oa_resp_reply_parser {
    uint8_t state;
    uint8_t depth;            /* open frames */
    uint8_t attributes;       /* of them, attributes */
    uint8_t digits;
    char line_type;           /* the type byte of the line being read */
    bool negative;
    bool capture;             /* the current string's bytes go to head */
    bool started;             /* a reply's first byte was read */
    uint64_t number;
    uint64_t bulk_left;
    uint64_t element;         /* elements completed in the top frame */
    struct oa_resp_reply reply;
    struct oa_resp_frame frames[OA_RESP_MAX_DEPTH];
};

void oa_resp_reply_init(struct oa_resp_reply_parser *p);

/* Parses b[0..n): *used bytes consumed. After DONE, p->reply is the reply
 * (until the next call). */
enum oa_resp_reply_event oa_resp_reply_feed(struct oa_resp_reply_parser *p, const char *b, size_t n, size_t *used);

#endif
