/* Shared by the encoders of libotelauto-otlp.so (traces in otlp_encoder.c,
 * metrics in otlp_metrics_encoder.c): strings copied NUL-terminated and with
 * invalid UTF-8 replaced, and attributes as KeyValues. */
#ifndef OTLP_TEXT_H
#define OTLP_TEXT_H

#include "base/common.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"

/* Length of the well-formed UTF-8 sequence at p (avail bytes there), or 0
 * when p does not start one (NUL included: it is replaced too). */
size_t oa_otlp_utf8_sequence_len(const unsigned char *p, size_t avail);

/* Bytes of s[0..len) once invalid UTF-8 (and NUL) is replaced by U+FFFD. */
size_t oa_otlp_utf8_len(const char *s, size_t len);
/* Writes that sanitised copy at out (no NUL); returns the end. */
char *oa_otlp_utf8_put(char *out, const char *s, size_t len);

/* Bytes oa_otlp_text_write will write for s[0..len), NUL included. */
size_t oa_otlp_text_size(const char *s, size_t len);
/* Writes the sanitised copy and its NUL at out; returns the bytes written. */
size_t oa_otlp_text_write(char *out, const char *s, size_t len);

/* Bytes of text oa_otlp_key_value_fill may use for a (at most). */
size_t oa_otlp_attr_text_size(const struct oa_attr *a);
/* Fills kv and v from a, its strings copied to text; returns the bytes used. */
size_t oa_otlp_key_value_fill(Opentelemetry__Proto__Common__V1__KeyValue *kv,
                              Opentelemetry__Proto__Common__V1__AnyValue *v, const struct oa_attr *a,
                              char *text);

#endif
