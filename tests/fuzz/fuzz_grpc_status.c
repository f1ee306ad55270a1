/* libFuzzer target for the gRPC outcome read from header and trailer lines
 * (grpc-status, grpc-message, grpc-status-details-bin and the RetryInfo in
 * it): never reads out of bounds, the message stays a NUL-terminated string
 * of printable bytes within its buffer, a delay is -1 or within a day, and
 * the raw decoder agrees on the bytes of the details. First input byte:
 * which header the rest is the value of (or the whole line). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp/grpc_status.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_grpc_status: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"grpc-status: ", "grpc-message: ", "grpc-status-details-bin: ", ""};
    struct oa_grpc_status s;
    long ms = -2;

    if (size < 1)
        return 0;
    const char *name = names[data[0] % 4];
    size_t name_len = strlen(name);
    char *line = malloc(name_len + size - 1);
    if (!line)
        abort();
    memcpy(line, name, name_len);
    memcpy(line + name_len, data + 1, size - 1);

    oa_grpc_status_reset(&s);
    oa_grpc_status_header(&s, line, name_len + size - 1);
    free(line);
    if (strnlen(s.message, sizeof s.message) == sizeof s.message)
        fail("message not terminated");
    for (const char *c = s.message; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            fail("control character in the message");
    }
    if (s.retry_delay_ms < -1 || s.retry_delay_ms > 86400000L)
        fail("delay out of range");
    if (s.code < -1)
        fail("negative code");

    /* the raw bytes as a google.rpc.Status */
    if (oa_grpc_status_retry_delay(data + 1, size - 1, &ms) && (ms < 0 || ms > 86400000L))
        fail("raw delay out of range");
    return 0;
}
