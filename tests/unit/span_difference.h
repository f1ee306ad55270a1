/* For the tests that build one span two ways (on the program's thread, and
 * recorded raw then built by the exporter's side): a peer, the ids every
 * span gets before its attributes, and the first way two spans differ. */
#ifndef OA_TEST_SPAN_DIFFERENCE_H
#define OA_TEST_SPAN_DIFFERENCE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "trace/span.h"
#include "wire/fd_table.h"

#define START 1700000000000000000ull
#define END (START + 2500000ull)

static void peer_v4(struct oa_conn *c, const char *ip, int port)
{
    memset(c, 0, sizeof(*c));
    struct sockaddr_in *in = (struct sockaddr_in *)&c->peer;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &in->sin_addr);
    c->peer_len = sizeof(*in);
}

static inline void peer_v6(struct oa_conn *c, const char *ip, int port)
{
    memset(c, 0, sizeof(*c));
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&c->peer;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    inet_pton(AF_INET6, ip, &in6->sin6_addr);
    c->peer_len = sizeof(*in6);
}

/* What a protocol gives every span before its attributes. */
static void give_ids(struct oa_span *s)
{
    for (int b = 0; b < 16; b++)
        s->trace_id[b] = (uint8_t)(0x40 + b);
    for (int b = 0; b < 8; b++) {
        s->span_id[b] = (uint8_t)(0x70 + b);
        s->parent_span_id[b] = (uint8_t)(0x90 + b);
    }
    s->has_parent = true;
    s->parent_is_remote = true;
    s->trace_flags = 3;
    s->start_unix_nano = START;
}


static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The first difference between two spans, or NULL if there is none: same
 * name, kind, status, ids, times, tracestate, and the same attributes in
 * the same order. */
static const char *difference(const struct oa_span *a, const struct oa_span *b)
{
    if (memcmp(a->trace_id, b->trace_id, 16) || memcmp(a->span_id, b->span_id, 8) ||
        memcmp(a->parent_span_id, b->parent_span_id, 8) || a->has_parent != b->has_parent ||
        a->parent_is_remote != b->parent_is_remote || a->trace_flags != b->trace_flags)
        return "ids, parent or flags";
    if (a->kind != b->kind || a->status_code != b->status_code)
        return "kind or status";
    if (a->start_unix_nano != b->start_unix_nano || a->end_unix_nano != b->end_unix_nano)
        return "times";
    if (!same_str(a->name, b->name) || !same_str(a->trace_state, b->trace_state) ||
        !same_str(a->status_message, b->status_message))
        return "name, tracestate or status message";
    if (a->n_attrs != b->n_attrs || a->dropped_attrs != b->dropped_attrs)
        return "number of attributes";
    for (uint32_t i = 0; i < a->n_attrs; i++) {
        const struct oa_attr *x = &a->attrs[i], *y = &b->attrs[i];
        if (strcmp(x->key, y->key) != 0 || x->type != y->type)
            return x->key;
        if (x->type == OA_VALUE_STRING &&
            (x->v.str.len != y->v.str.len || memcmp(x->v.str.ptr, y->v.str.ptr, x->v.str.len) != 0))
            return x->key;
        if (x->type == OA_VALUE_INT && x->v.i != y->v.i)
            return x->key;
    }
    return NULL;
}

/* One span built both ways (and as the crash capture builds it). */
struct pair {
    struct oa_span *direct; /* built on the program's thread */
    struct oa_span *built;  /* recorded raw, then materialized */
    struct oa_span *crash;  /* recorded raw, then built (and ended) as the crash capture does */
};

/* materialized and crash-built alike are the span built directly */
#define check_same(sp, ...)                                                                            \
    do {                                                                                               \
        const char *diff_ = (sp).direct && (sp).built ? difference((sp).direct, (sp).built) : "missing"; \
        if (diff_ == NULL)                                                                             \
            diff_ = (sp).crash ? difference((sp).direct, (sp).crash) : "missing crash copy";           \
        CHECK((sp).built != NULL && !oa_span_is_raw((sp).built) && diff_ == NULL, __VA_ARGS__);       \
        if (diff_ != NULL)                                                                             \
            printf("# first difference: %s\n", diff_);                                                  \
    } while (0)

static inline void drop(struct pair sp)
{
    oa_span_free(sp.direct);
    oa_span_free(sp.built);
    oa_span_free(sp.crash);
}

#endif
