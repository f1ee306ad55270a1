/* gRPC message framing: see grpc_message.h. */
#include <stdio.h>
#include <string.h>

#include "export/otlp/grpc_message.h"

void oa_grpc_prefix(uint8_t out[OA_GRPC_PREFIX_LEN], bool compressed, uint32_t len)
{
    out[0] = compressed ? 1 : 0;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

bool oa_grpc_first_message(const uint8_t *body, size_t len, bool *compressed, const uint8_t **msg,
                           size_t *msg_len)
{
    if (len < OA_GRPC_PREFIX_LEN || body[0] > 1)
        return false;
    uint32_t n = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 | body[4];
    if (n > len - OA_GRPC_PREFIX_LEN)
        return false;
    *compressed = body[0] == 1;
    *msg = body + OA_GRPC_PREFIX_LEN;
    *msg_len = n;
    return true;
}

bool oa_grpc_timeout_value(char *out, size_t cap, long timeout_ms)
{
    int n;

    if (timeout_ms <= 0)
        return false;
    /* the configuration caps timeouts at a day: 86400000 ms, 8 digits */
    if (timeout_ms <= 99999999L)
        n = snprintf(out, cap, "%ldm", timeout_ms);
    else
        n = snprintf(out, cap, "%ldS", (timeout_ms + 999) / 1000);
    return n > 0 && (size_t)n < cap;
}

bool oa_grpc_url(char *out, size_t cap, const char *endpoint, const char *method)
{
    const char *scheme_end = strstr(endpoint, "://");

    if (!scheme_end || scheme_end == endpoint)
        return false;
    const char *authority = scheme_end + 3;
    size_t prefix = (size_t)(authority - endpoint) + strcspn(authority, "/?#");
    if (prefix == (size_t)(authority - endpoint))
        return false;
    int n = snprintf(out, cap, "%.*s%s", (int)prefix, endpoint, method);
    return n > 0 && (size_t)n < cap;
}
