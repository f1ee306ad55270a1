/* A conversation test harness: a test states the bytes each connection
 * carries each way, and the spans and injected bytes they must give; the
 * harness plays it through the real wire layer (oa_fd_track, oa_io_send,
 * oa_io_received, oa_fd_forget, the registered protocols, the batch
 * processor) against a fake kernel, many times over:
 *   - whole: each step in one call, the kernel takes everything;
 *   - split: for every step and every byte boundary inside it, that step in
 *     two calls (and once every step one byte per call);
 *   - partial: each step in one call, the kernel taking at most k bytes per
 *     send for every k from 1 up; and again with every other send refused
 *     with EAGAIN;
 * and checks the same outcome every time:
 *   - the bytes that reached each connection's wire, against a template in
 *     which {tp:N} stands for the traceparent value of captured span N
 *     (its trace id, span id, flags) and {tp:?} for any well-formed one,
 *     {tid:N} and {sid:N} for its trace id and span id alone (in hex);
 *   - what the program was told: a send never returns 0 for a non-empty
 *     buffer nor more than it was given, and the program, resending what was
 *     not taken as programs do, gets exactly its own byte counts;
 *   - the spans exported (through the span exporter interface, so raw spans
 *     are built as the exporter thread builds them), in export order: kind,
 *     name, attributes, error status, and the parent (none, a remote one
 *     given as a traceparent value, or another captured span).
 *
 * A failed run prints its first difference as a TAP comment ("# ..."); the
 * test turns the report into TAP lines with CONV_CHECK. Links the fake
 * oa_libc of the engine: a test that uses this harness must not define its
 * own. */
#ifndef OA_CONVERSATION_H
#define OA_CONVERSATION_H

#include <stdbool.h>
#include <stddef.h>

#include "trace/span.h"
#include "wire/fd_table.h"
#include "wire/protocol.h"

#define CONV_MAX_CONNS 4
#define CONV_MAX_SPANS 16
#define CONV_MAX_ATTRS 12

enum conv_dir {
    CONV_END = 0, /* terminates the steps */
    CONV_SEND,    /* the program sends bytes (write, send, writev, sendmsg, by turns) */
    CONV_RECV,    /* the program receives bytes (read) */
    CONV_EOF,     /* a read returns 0: the peer closed its side */
    CONV_RESET,   /* a read fails with errno `err` */
    CONV_CLOSE,   /* the program closes the connection */
    CONV_FINISHED, /* by now exactly `spans` spans were exported (not later, at a close) */
    CONV_TLS,     /* a TLS session starts on the connection (oa_tls_open): its sends and
                   * receives from here on are the session's plaintext (oa_tls_send,
                   * oa_tls_received), which is what its wire template then holds */
    CONV_IDLE,    /* HTTP/1: the connection holds only its fixed state now (no busy
                   * area, both parsers parked): what an idle keep-alive one costs */
};

struct conv_step {
    int conn;              /* index into the conversation's connections */
    enum conv_dir dir;
    const char *bytes;
    size_t len;            /* 0: strlen(bytes) */
    int err;               /* CONV_RESET's errno */
    int spans;             /* CONV_FINISHED's count */
    /* Split points strictly inside the first occurrence of this substring
     * of bytes are not tried (a behaviour that depends on how the program
     * cuts its writes, stated by a case of its own). */
    const char *unsplit;
    size_t unsplit_len;    /* 0: strlen(unsplit) */
};

/* CONV_REMOTE: the child of the traceparent `remote` (another process's
 * span); CONV_NAMED: a child of the span that traceparent names, but not
 * marked remote (the program announced that parent itself). */
enum { CONV_ROOT = -1, CONV_REMOTE = -2, CONV_NAMED = -3 };

struct conv_span {
    enum oa_span_kind kind; /* 0 terminates the list */
    const char *name;
    /* "key=value" (an int attribute compares as its decimal text), or
     * "!key" for an attribute that must be absent */
    const char *attrs[CONV_MAX_ATTRS];
    bool error;             /* status ERROR; else UNSET */
    int parent;             /* CONV_ROOT, CONV_REMOTE, CONV_NAMED, or a captured span's index */
    const char *remote;     /* CONV_REMOTE, CONV_NAMED: the parent's traceparent value */
};

/* Steps and spans spelled briefly (designated: fields not named are 0). */
#define SENDS(c, b, ...) {.conn = (c), .dir = CONV_SEND, .bytes = (b), __VA_ARGS__}
#define RECEIVES(c, b, ...) {.conn = (c), .dir = CONV_RECV, .bytes = (b), __VA_ARGS__}
#define PEER_CLOSES(c) {.conn = (c), .dir = CONV_EOF}
#define RECEIVE_FAILS(c, e) {.conn = (c), .dir = CONV_RESET, .err = (e)}
#define CLOSES(c) {.conn = (c), .dir = CONV_CLOSE}
#define FINISHED(n) {.dir = CONV_FINISHED, .spans = (n)}
#define STARTS_TLS(c) {.conn = (c), .dir = CONV_TLS}
#define IDLE(c) {.conn = (c), .dir = CONV_IDLE}
#define CONV_DONE {.dir = CONV_END}
#define SPAN(kind_, name_, error_, parent_, ...) \
    {.kind = (kind_), .name = (name_), .error = (error_), .parent = (parent_), .attrs = {__VA_ARGS__}}
#define SPAN_OF(kind_, name_, error_, parent_, remote_, ...) \
    {.kind = (kind_), .name = (name_), .error = (error_), .parent = (parent_), .remote = (remote_), .attrs = {__VA_ARGS__}}
#define SPANS_DONE {.kind = 0}

struct conversation {
    const char *name;
    enum oa_conn_role roles[CONV_MAX_CONNS]; /* OA_ROLE_UNKNOWN ends the list */
    const struct conv_step *steps;           /* ends with dir CONV_END */
    /* Per connection, what must reach its wire (a template, see above);
     * NULL: exactly the program's bytes. wire_len 0: strlen. */
    const char *wire[CONV_MAX_CONNS];
    size_t wire_len[CONV_MAX_CONNS];
    const struct conv_span *spans;           /* ends with kind 0; NULL: none */
    /* The protocols offered each connection, in order; NULL: HTTP/1 only. */
    const struct oa_protocol *const *protocols;
    /* Optional: what the peer makes of a connection's wire (a protocol's
     * framing), on every run; false with why filled in: a failure. */
    bool (*peer_check)(int conn, const unsigned char *wire, size_t n, char *why, size_t cap);
    /* Partial writes of 1..max_k bytes per call; 0: up to the longest send
     * step plus 80 (room for injected bytes). */
    size_t max_k;
};

struct conv_report {
    bool whole, split, partial, eagain;
    int split_runs, partial_runs;
};

/* Sets the process up once (configuration with no exporter but the
 * harness's capture, the fake kernel) and runs every variant of cv. */
void conv_run(const struct conversation *cv, struct conv_report *out);

/* The runs so far, all conversations together. */
extern long conv_total_runs;

#define CONV_CHECK(cv)                                                                                          \
    do {                                                                                                        \
        struct conv_report r_;                                                                                  \
        conv_run(&(cv), &r_);                                                                                   \
        CHECK(r_.whole, "%s: whole", (cv).name);                                                                \
        CHECK(r_.split, "%s: split at every byte of every step (%d runs)", (cv).name, r_.split_runs);          \
        CHECK(r_.partial, "%s: the kernel takes 1..k bytes per send (%d runs)", (cv).name, r_.partial_runs);    \
        CHECK(r_.eagain, "%s: partial writes with every other send refused (EAGAIN)", (cv).name);              \
    } while (0)

/* OTEL_PROPAGATORS = list for the conversations that follow (the
 * configuration reloaded from the environment). */
void conv_use_propagators(const char *list);

#endif
