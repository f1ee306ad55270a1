/* libFuzzer target for the incremental MySQL / MariaDB parser
 * (src/protocols/mysql/mysql_parser.c).
 *
 * The input is a conversation: chunks, each a byte (bit 7: the server sends,
 * else the client; bits 0-6: length - 1) followed by that many bytes (cut
 * short at the input's end). It is parsed twice: each chunk in one call, and
 * each chunk a byte per call. Both runs must report the same events with
 * the same contents, and die at the same chunk: the parser is incremental,
 * so where a stream is cut must not change what it sees. Every event's
 * strings lie within the bounds the parser promises, every reply answers a
 * command that expects one, and ASan catches any read outside the given
 * bytes (each piece is copied into a buffer of exactly its size). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mysql/mysql_parser.h"

struct trace {
    uint64_t digest;
    unsigned events;
    unsigned commands, replies;
};

static uint64_t mix(uint64_t d, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++)
        d = (d ^ b[i]) * 0x100000001b3ull;
    return d;
}

static void on_greeting(void *ctx, const char *version, size_t len)
{
    struct trace *t = ctx;
    if (len > OA_MYSQL_SERVER_KEEP)
        abort();
    t->digest = mix(mix(t->digest, "G", 1), version, len);
    t->events++;
}

static void on_handshake(void *ctx, const char *db, size_t len)
{
    struct trace *t = ctx;
    if ((db == NULL) != (len == 0) || len > OA_MYSQL_CLIENT_KEEP)
        abort();
    t->digest = mix(t->digest, "H", 1);
    if (db != NULL) {
        if (memchr(db, 0, len) != NULL)
            abort(); /* a database name ends at its NUL */
        t->digest = mix(t->digest, db, len);
    }
    t->events++;
}

static bool on_command(void *ctx, uint8_t command, const unsigned char *body, size_t len, bool cut)
{
    struct trace *t = ctx;
    if (len >= OA_MYSQL_CLIENT_KEEP)
        abort();
    t->digest = mix(mix(mix(t->digest, "C", 1), &command, 1), body, len);
    t->digest = mix(t->digest, &cut, 1);
    t->events++;
    t->commands++;
    return (command & 1) != 0; /* traced or not: a function of the command */
}

static void on_reply(void *ctx, const struct oa_mysql_reply *r)
{
    struct trace *t = ctx;
    if (r->traced != ((r->command & 1) != 0) || ++t->replies > t->commands)
        abort();
    if (r->sqlstate[0] != '\0' && strlen(r->sqlstate) != 5)
        abort();
    uint64_t fields[] = {r->command, r->traced, r->error, r->error_code, r->statement_id};
    t->digest = mix(mix(mix(t->digest, "R", 1), fields, sizeof(fields)), r->sqlstate, sizeof(r->sqlstate));
    t->events++;
}

static const struct oa_mysql_events events = {
    .greeting = on_greeting,
    .handshake = on_handshake,
    .command = on_command,
    .reply = on_reply,
};

static bool feed(struct oa_mysql_parser *p, bool server, const uint8_t *b, size_t n, struct trace *t)
{
    unsigned char *copy = malloc(n);
    if (copy == NULL)
        return true;
    memcpy(copy, b, n);
    bool alive = server ? oa_mysql_parse_server(p, copy, n, &events, t) : oa_mysql_parse_client(p, copy, n, &events, t);
    free(copy);
    return alive;
}

/* Parses the conversation; returns the chunk it died at (or the count). */
static size_t run(const uint8_t *data, size_t size, bool bytewise, struct trace *t)
{
    static struct oa_mysql_parser p;
    oa_mysql_parser_init(&p);
    memset(t, 0, sizeof(*t));
    t->digest = 0xcbf29ce484222325ull;
    size_t at = 0, chunk = 0;
    while (at < size) {
        bool server = (data[at] & 0x80) != 0;
        size_t n = (size_t)(data[at] & 0x7f) + 1;
        at++;
        if (n > size - at)
            n = size - at;
        bool alive = true;
        if (bytewise) {
            for (size_t i = 0; i < n && alive; i++)
                alive = feed(&p, server, data + at + i, 1, t);
        } else if (n > 0) {
            alive = feed(&p, server, data + at, n, t);
        }
        at += n;
        if (!alive)
            return chunk;
        chunk++;
    }
    return chunk;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace whole, bytes;
    size_t died_whole = run(data, size, false, &whole);
    size_t died_bytes = run(data, size, true, &bytes);
    if (died_whole != died_bytes || whole.digest != bytes.digest || whole.events != bytes.events) {
        fprintf(stderr, "whole: died at chunk %zu, %u events; a byte per call: chunk %zu, %u events\n", died_whole,
                whole.events, died_bytes, bytes.events);
        abort();
    }
    return 0;
}
