/* The HTTP/2 frame layer (RFC 9113 §4-6), one direction of a connection:
 * the 9-byte frame header, frames straddling calls and many frames in one
 * call, a header block (HEADERS or PUSH_PROMISE, then CONTINUATION) gathered
 * without its padding and priority fields into one bounded buffer, SETTINGS
 * entries, DATA and END_STREAM, RST_STREAM, GOAWAY. What the frames mean is
 * the connection's (h2_connection.c), told through struct oa_h2_events.
 *
 * A reader that meets what RFC 9113 forbids (a CONTINUATION out of place,
 * padding longer than its frame, a SETTINGS payload not a multiple of 6, a
 * header block above the bound) stops for good: the connection is given up,
 * never guessed at. */
#ifndef OA_H2_FRAMES_H
#define OA_H2_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OA_H2_FRAME_HEADER 9
/* A header block is gathered whole before it is decoded: above this many
 * octets the connection is given up (a request head this large is far
 * beyond what servers accept: nginx 16 KiB by default, grpc 8 KiB). */
#define OA_H2_BLOCK_MAX (64 * 1024)

enum oa_h2_type {
    OA_H2_DATA = 0,
    OA_H2_HEADERS = 1,
    OA_H2_PRIORITY = 2,
    OA_H2_RST_STREAM = 3,
    OA_H2_SETTINGS = 4,
    OA_H2_PUSH_PROMISE = 5,
    OA_H2_PING = 6,
    OA_H2_GOAWAY = 7,
    OA_H2_WINDOW_UPDATE = 8,
    OA_H2_CONTINUATION = 9,
};

enum {
    OA_H2_END_STREAM = 0x1,
    OA_H2_ACK = 0x1,
    OA_H2_END_HEADERS = 0x4,
    OA_H2_PADDED = 0x8,
    OA_H2_PRIORITY_FLAG = 0x20,
};

enum {
    OA_H2_SETTINGS_HEADER_TABLE_SIZE = 1,
    OA_H2_SETTINGS_MAX_FRAME_SIZE = 5,
    OA_H2_SETTINGS_MAX_HEADER_LIST_SIZE = 6,
};

/* Where the block's last fragment sits in the direction's stream: what an
 * injection at the block's end patches. */
struct oa_h2_fragment {
    uint64_t frame_at;     /* stream offset of its frame header */
    uint32_t len;          /* its frame's payload length */
    uint8_t flags;         /* its frame's flags */
    uint8_t pre;           /* payload octets before its fragment (pad length, priority) */
    uint8_t pad;           /* padding octets at the payload's end */
};

struct oa_h2_block {
    uint32_t stream;       /* HEADERS: its stream; PUSH_PROMISE: the associated one */
    uint8_t type;          /* OA_H2_HEADERS or OA_H2_PUSH_PROMISE */
    bool end_stream;       /* HEADERS with END_STREAM */
    /* the field block, padding and priority removed: valid during the
     * event only (the reader's copy, or the octets being fed when the block
     * came whole in one frame of one feed) */
    const uint8_t *bytes;
    size_t len;
    struct oa_h2_fragment last;
};

/* What the reader reports, each as it completes (at the end of its frame
 * for DATA, RST_STREAM, GOAWAY). false from any: stop (given up). */
struct oa_h2_events {
    bool (*block)(void *arg, const struct oa_h2_block *b);
    bool (*data_end)(void *arg, uint32_t stream, bool end_stream);
    bool (*rst_stream)(void *arg, uint32_t stream, uint32_t code);
    bool (*goaway)(void *arg, uint32_t last_stream, uint32_t code);
    /* one entry of a SETTINGS frame; then settings_end (ack: an ACK, no entries) */
    bool (*setting)(void *arg, uint16_t id, uint32_t value);
    bool (*settings_end)(void *arg, bool ack);
};

struct oa_h2_reader {
    uint64_t offset;       /* stream offset of the next octet */
    uint8_t hdr[OA_H2_FRAME_HEADER];
    uint8_t hdr_have;
    bool in_payload;
    bool failed;
    uint8_t type, flags;
    uint32_t stream, len;
    uint32_t pos;          /* payload octets seen */
    uint64_t frame_at;
    uint8_t pre;           /* payload octets before the fragment (pad length, priority, promised id) */
    uint8_t pad;
    uint8_t small[8];      /* RST_STREAM, GOAWAY's first 8, one SETTINGS entry */
    uint8_t small_have;
    /* the header block being gathered */
    bool in_block;
    uint8_t block_type;
    bool block_end_stream;
    uint32_t block_stream;
    uint32_t block_len, block_cap;
    uint8_t *block;        /* malloc'd, at most OA_H2_BLOCK_MAX */
};

void oa_h2_reader_init(struct oa_h2_reader *r);
/* Reads n octets; false when the stream is not HTTP/2 as RFC 9113 frames
 * it, or an event said stop (for good: every later call is false too). */
bool oa_h2_reader_feed(struct oa_h2_reader *r, const uint8_t *p, size_t n, const struct oa_h2_events *ev, void *arg);
/* n octets went by unseen (sendfile of a DATA frame's payload, as nginx
 * sends a body): true when they lie inside the current DATA frame's
 * payload (its end then reported); false otherwise (stop for good). */
bool oa_h2_reader_skip(struct oa_h2_reader *r, size_t n, const struct oa_h2_events *ev, void *arg);
/* Frees the block buffer. */
void oa_h2_reader_release(struct oa_h2_reader *r);

#endif
