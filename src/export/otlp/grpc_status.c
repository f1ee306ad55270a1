/* gRPC call outcome: see grpc_status.h. The few protobuf messages of
 * grpc-status-details-bin are read by hand (google/rpc/status.proto,
 * error_details.proto, google/protobuf/any.proto, duration.proto): their
 * generated code would be a dependency for four fields. */
#include <string.h>
#include <strings.h>

#include "export/otlp/grpc_status.h"

#define RETRY_INFO_TYPE_URL "type.googleapis.com/google.rpc.RetryInfo"
#define DAY_MS 86400000L
/* A details header longer than this is not ours to decode (a RetryInfo
 * status is a few dozen bytes). */
#define DETAILS_MAX 1024

void oa_grpc_status_reset(struct oa_grpc_status *s)
{
    s->code = -1;
    s->message[0] = '\0';
    s->retry_delay_ms = -1;
}

/* ---- protobuf wire format, the little of it needed -------------------- */

struct pb_field {
    uint32_t number;
    uint32_t wire_type;
    uint64_t varint;        /* wire type 0 */
    const uint8_t *data;    /* wire type 2 */
    size_t len;
};

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* The next field at *p; false at the end or on malformed input (*p set
 * to end then, so that a caller's loop stops either way). */
static bool pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f, bool *malformed)
{
    uint64_t tag;
    uint64_t len;

    *malformed = false;
    if (*p >= end)
        return false;
    if (!pb_varint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        goto bad;
    f->number = (uint32_t)(tag >> 3);
    f->wire_type = (uint32_t)(tag & 7);
    switch (f->wire_type) {
    case 0:
        if (!pb_varint(p, end, &f->varint))
            goto bad;
        return true;
    case 1:
        if (end - *p < 8)
            goto bad;
        *p += 8;
        return true;
    case 2:
        if (!pb_varint(p, end, &len) || len > (uint64_t)(end - *p))
            goto bad;
        f->data = *p;
        f->len = (size_t)len;
        *p += len;
        return true;
    case 5:
        if (end - *p < 4)
            goto bad;
        *p += 4;
        return true;
    default:
        goto bad;
    }
bad:
    *p = end;
    *malformed = true;
    return false;
}

/* google.protobuf.Duration{1 int64 seconds, 2 int32 nanos} -> ms, capped
 * at a day, never negative. */
static bool duration_ms(const uint8_t *p, const uint8_t *end, long *ms)
{
    int64_t seconds = 0;
    int64_t nanos = 0;
    struct pb_field f;
    bool malformed;

    while (pb_next(&p, end, &f, &malformed)) {
        if (f.wire_type != 0)
            continue;
        if (f.number == 1)
            seconds = (int64_t)f.varint;
        else if (f.number == 2)
            nanos = (int32_t)(uint32_t)f.varint;
    }
    if (malformed)
        return false;
    if (seconds < 0 || (seconds == 0 && nanos < 0))
        *ms = 0;
    else if (seconds >= DAY_MS / 1000)
        *ms = DAY_MS;
    else
        *ms = (long)(seconds * 1000 + nanos / 1000000);
    if (*ms < 0)
        *ms = 0;
    return true;
}

/* google.rpc.RetryInfo{1 Duration retry_delay}; no delay given means now. */
static bool retry_info_delay(const uint8_t *p, const uint8_t *end, long *ms)
{
    struct pb_field f;
    bool malformed;

    *ms = 0;
    while (pb_next(&p, end, &f, &malformed)) {
        if (f.number == 1 && f.wire_type == 2 && !duration_ms(f.data, f.data + f.len, ms))
            return false;
    }
    return !malformed;
}

/* google.protobuf.Any{1 string type_url, 2 bytes value}: the delay if it
 * holds a RetryInfo. */
static bool any_retry_delay(const uint8_t *p, const uint8_t *end, long *ms)
{
    const uint8_t *value = NULL;
    size_t value_len = 0;
    bool is_retry_info = false;
    struct pb_field f;
    bool malformed;

    while (pb_next(&p, end, &f, &malformed)) {
        if (f.wire_type != 2)
            continue;
        if (f.number == 1)
            is_retry_info = f.len == sizeof RETRY_INFO_TYPE_URL - 1 &&
                            memcmp(f.data, RETRY_INFO_TYPE_URL, f.len) == 0;
        else if (f.number == 2) {
            value = f.data;
            value_len = f.len;
        }
    }
    if (malformed || !is_retry_info)
        return false;
    if (!value)
        value = (const uint8_t *)"";
    return retry_info_delay(value, value + value_len, ms);
}

/* google.rpc.Status{1 int32 code, 2 string message, 3 repeated Any details} */
bool oa_grpc_status_retry_delay(const uint8_t *status, size_t len, long *delay_ms)
{
    const uint8_t *p = status;
    const uint8_t *end = status + len;
    struct pb_field f;
    bool malformed;

    while (pb_next(&p, end, &f, &malformed)) {
        if (f.number == 3 && f.wire_type == 2 && any_retry_delay(f.data, f.data + f.len, delay_ms))
            return true;
    }
    return false;
}

/* ---- header lines ------------------------------------------------------- */

static int base64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64, padding optional (gRPC binary headers may omit it).
 * Returns the decoded length, or -1. */
static long base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    while (len > 0 && in[len - 1] == '=')
        len--;
    for (size_t i = 0; i < len; i++) {
        int d = base64_digit((unsigned char)in[i]);
        if (d < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return bits >= 6 ? -1 : (long)n; /* one digit left over is no byte */
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* grpc-message is percent-encoded UTF-8; it goes into our log, so control
 * characters become '?'. */
static void percent_decode_message(char *out, size_t cap, const char *in, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%' && i + 2 < len && hex_digit(in[i + 1]) >= 0 && hex_digit(in[i + 2]) >= 0) {
            c = (unsigned char)(hex_digit(in[i + 1]) << 4 | hex_digit(in[i + 2]));
            i += 2;
        }
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[n] = '\0';
}

/* line is "name: value" (CRLF and spaces around the value dropped): the
 * value, or NULL if the line is not that header. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *value_len)
{
    size_t n = strlen(name);

    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return NULL;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value_len = (size_t)(end - v);
    return v;
}

void oa_grpc_status_header(struct oa_grpc_status *s, const char *line, size_t len)
{
    const char *v;
    size_t vlen;

    if ((v = header_value(line, len, "grpc-status", &vlen)) != NULL) {
        int code = 0;
        size_t i;
        for (i = 0; i < vlen && i < 6 && v[i] >= '0' && v[i] <= '9'; i++)
            code = code * 10 + (v[i] - '0');
        /* not a number: an unknown outcome, never a success */
        s->code = (i == vlen && vlen > 0) ? code : OA_GRPC_UNKNOWN;
    } else if ((v = header_value(line, len, "grpc-message", &vlen)) != NULL) {
        percent_decode_message(s->message, sizeof s->message, v, vlen);
    } else if ((v = header_value(line, len, "grpc-status-details-bin", &vlen)) != NULL) {
        uint8_t status[DETAILS_MAX];
        long n = vlen <= DETAILS_MAX * 4 / 3 + 4 ? base64_decode(v, vlen, status, sizeof status) : -1;
        long ms;
        if (n >= 0 && oa_grpc_status_retry_delay(status, (size_t)n, &ms))
            s->retry_delay_ms = ms;
    }
}

/* ---- codes -------------------------------------------------------------- */

int oa_grpc_code_from_http(long http_status)
{
    switch (http_status) {
    case 400:
        return OA_GRPC_INTERNAL;
    case 401:
        return OA_GRPC_UNAUTHENTICATED;
    case 403:
        return OA_GRPC_PERMISSION_DENIED;
    case 404:
        return OA_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return OA_GRPC_UNAVAILABLE;
    case 200:
        return OA_GRPC_INTERNAL;
    default:
        return OA_GRPC_UNKNOWN;
    }
}

bool oa_grpc_code_retryable(int code, bool has_retry_info)
{
    switch (code) {
    case OA_GRPC_CANCELLED:
    case OA_GRPC_DEADLINE_EXCEEDED:
    case OA_GRPC_ABORTED:
    case OA_GRPC_OUT_OF_RANGE:
    case OA_GRPC_UNAVAILABLE:
    case OA_GRPC_DATA_LOSS:
        return true;
    case OA_GRPC_RESOURCE_EXHAUSTED:
        return has_retry_info;
    default:
        return false;
    }
}

const char *oa_grpc_code_name(int code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if (code < 0 || (size_t)code >= sizeof names / sizeof names[0])
        return NULL;
    return names[code];
}
