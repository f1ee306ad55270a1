/* Protobuf to JSON by protobuf-c's descriptors (see otlp_json_transcode.h):
 * each field present is written under its lowerCamelCase name; a proto3
 * scalar at its default is left out, as the encoders of the specification
 * do. */
#include <stdlib.h>
#include <string.h>

#include "export/otlp/json_writer.h"
#include "export/otlp/otlp_json_transcode.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

static void write_message(struct oa_json *j, const ProtobufCMessage *m);

/* snake_case to lowerCamelCase */
static void write_key(struct oa_json *j, const char *name)
{
    char key[64];
    size_t n = 0;
    for (const char *p = name; *p != '\0' && n + 1 < sizeof key; p++) {
        if (*p == '_' && p[1] != '\0') {
            p++;
            key[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        } else {
            key[n++] = *p;
        }
    }
    key[n] = '\0';
    oa_json_key(j, key);
}

/* one value of field f at v */
static void write_value(struct oa_json *j, const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        oa_json_double(j, *(const int32_t *)v);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        oa_json_uint(j, *(const uint32_t *)v);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        oa_json_i64_string(j, *(const int64_t *)v);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        oa_json_u64_string(j, *(const uint64_t *)v);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        oa_json_bool(j, *(const protobuf_c_boolean *)v);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        oa_json_double(j, *(const float *)v);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        oa_json_double(j, *(const double *)v);
        break;
    case PROTOBUF_C_TYPE_STRING:
        oa_json_cstring(j, *(const char *const *)v);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        /* OTLP's bytes are its ids: hex, not base64 */
        const ProtobufCBinaryData *b = v;
        oa_json_hex(j, b->data, b->len);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        write_message(j, *(const ProtobufCMessage *const *)v);
        break;
    }
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

/* a proto3 scalar at its default value (not written) */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)v;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)v)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const void *const *)v == NULL;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)v == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)v == 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(v, zero, value_size(f)) == 0;
    }
    }
}

static void write_message(struct oa_json *j, const ProtobufCMessage *m)
{
    oa_json_begin_object(j);
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        const void *v = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)(base + f->quantifier_offset);
            if (count == 0)
                continue;
            const char *items = *(const char *const *)v;
            write_key(j, f->name);
            oa_json_begin_array(j);
            for (size_t k = 0; k < count; k++)
                write_value(j, f, items + k * value_size(f));
            oa_json_end_array(j);
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            /* the case is the member's number */
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
                   f->type != PROTOBUF_C_TYPE_STRING) {
            if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
                continue;
        } else if (is_default(f, v)) {
            continue;
        }
        write_key(j, f->name);
        write_value(j, f, v);
    }
    oa_json_end_object(j);
}

uint8_t *oa_otlp_json_transcode_traces(const uint8_t *data, size_t len, size_t *out_len)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(
        &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor, NULL, len, data);
    if (m == NULL)
        return NULL;
    struct oa_json j;
    oa_json_init(&j, len * 2 + 256);
    write_message(&j, m);
    protobuf_c_message_free_unpacked(m, NULL);
    return (uint8_t *)oa_json_finish(&j, out_len);
}
