/* A JSON text writer for the OTLP/HTTP JSON encoder (otlp_json_encoder.c):
 * a growing buffer, commas put in by the writer itself (a value or key
 * after another in the same object or array gets one), strings escaped and
 * made valid UTF-8. No JSON library: the object links libcurl, protobuf-c
 * and zlib only. Runs on the exporter threads; allocates. */
#ifndef OA_JSON_WRITER_H
#define OA_JSON_WRITER_H

#include "base/common.h"

struct oa_json {
    char *buf;
    size_t len;
    size_t cap;
    bool failed;     /* out of memory: everything after is ignored */
    bool need_comma; /* a value was written in the current object or array */
};

/* Starts an empty text with room for about `hint` bytes. */
void oa_json_init(struct oa_json *j, size_t hint);
/* The text, NUL-terminated, and its length (without the NUL), now the
 * caller's to free; NULL (and nothing to free) if memory ran out. */
char *oa_json_finish(struct oa_json *j, size_t *len);

void oa_json_begin_object(struct oa_json *j);
void oa_json_end_object(struct oa_json *j);
void oa_json_begin_array(struct oa_json *j);
void oa_json_end_array(struct oa_json *j);
/* "name": before a member's value; name is a literal of ours (plain ASCII,
 * nothing to escape). */
void oa_json_key(struct oa_json *j, const char *name);

/* Values. */
/* s[0..len) as a JSON string: '"' and '\' escaped, control characters as
 * \u00XX, invalid UTF-8 (and NUL, as the protobuf encoder does) replaced by
 * U+FFFD. NULL is the empty string. */
void oa_json_string(struct oa_json *j, const char *s, size_t len);
void oa_json_cstring(struct oa_json *j, const char *s);
/* bytes as a string of lower-case hex (OTLP's trace and span ids) */
void oa_json_hex(struct oa_json *j, const uint8_t *bytes, size_t n);
/* 64-bit integers as decimal strings (the protobuf JSON mapping: a double
 * cannot hold them) */
void oa_json_u64_string(struct oa_json *j, uint64_t v);
void oa_json_i64_string(struct oa_json *j, int64_t v);
/* a 32-bit integer or an enum's number, as a number */
void oa_json_uint(struct oa_json *j, uint32_t v);
/* the shortest decimal that reads back as v, whatever the program's
 * locale; NaN and the infinities as the mapping's strings "NaN",
 * "Infinity", "-Infinity" */
void oa_json_double(struct oa_json *j, double v);
void oa_json_bool(struct oa_json *j, bool v);

#endif
