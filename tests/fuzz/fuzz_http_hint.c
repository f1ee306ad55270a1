/* libFuzzer target for the runtime hints' placeholder (http_hint.h): any
 * input is refused, or it is exactly a placeholder of one of its forms,
 * which is written back from what was read, octet for octet. ASan catches
 * any read outside the input. Only the parser runs: what the resolver
 * links against is stubbed, and aborts if it is ever reached. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common/conn_peer.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http1/http_hint.h"
#include "trace/thread_context.h"
#include "wire/fd_table.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_http_hint: %s\n", what);
    abort();
}

/* the resolver's dependencies: never called by the parser */
__thread int oa_conn_tid __attribute__((tls_model("initial-exec")));
struct oa_conn **oa_fd_chunks[OA_FD_TABLE_CHUNKS];
const struct oa_protocol oa_http1_protocol = {.name = "http1"};
bool oa_conn_lock_waiting(struct oa_conn *c, int fd)
{
    (void)c, (void)fd;
    fail("resolver reached");
    return false;
}
int oa_conn_peer_text(struct oa_conn *c, const char **text)
{
    (void)c, (void)text;
    fail("resolver reached");
    return -1;
}
int oa_fd_table_high_water(void)
{
    fail("resolver reached");
    return 0;
}
void oa_server_context_ref(struct oa_server_context *ctx)
{
    (void)ctx;
    fail("resolver reached");
}
void oa_server_context_unref(struct oa_server_context *ctx)
{
    (void)ctx;
    fail("resolver reached");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oa_http_hint h;
    memset(&h, 0xa5, sizeof h);
    if (!oa_http_hint_parse((const char *)data, size, &h))
        return 0;
    char back[64];
    if (h.by_peer) {
        if (h.fd != -1 || h.seq != 0 || h.port == 0 || h.port > 0xffff || h.parent_low >> OA_HTTP_HINT_PARENT_BITS)
            fail("by peer port: fields out of range");
        uint64_t d = h.by_parent ? (UINT64_C(1) << OA_HTTP_HINT_PARENT_BITS | h.parent_low) : 0;
        if (!h.by_parent && h.parent_low != 0)
            fail("by peer port without a parent: bits set");
        snprintf(back, sizeof back, "00-%032d-ff%04x%010llx-00", 0, h.port, (unsigned long long)d);
    } else if (h.fd == -1) {
        if (h.seq != 0 || h.port != 0)
            fail("made for no request: fields set");
        snprintf(back, sizeof back, "00-%032d-%016d-00", 0, 0);
    } else {
        if (h.fd < 0 || h.fd >= 0xff0000 || h.seq == 0 || h.seq > OA_HTTP_HINT_SEQ_MASK || h.port > 0xffff)
            fail("fd form: fields out of range");
        snprintf(back, sizeof back, "00-%032d-%06x%04x%06x-00", 0, (unsigned)h.fd, h.port, (unsigned)h.seq);
    }
    if (size != strlen(back) || memcmp(back, data, size) != 0)
        fail("accepted, but is not the placeholder it was read as");
    return 0;
}
