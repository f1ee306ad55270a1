/* Decodes an OTLP ExportTraceServiceRequest the way a collector's receiver
 * must before it can do anything with it: protobuf-c's generated decoder
 * (the same descriptors the exporter encodes with) unpacks the whole message
 * tree, every span and attribute allocated and filled in. The benchmarks need
 * a receiver that pays a real decoder's cost without a Python interpreter's,
 * which on two cores would take the CPU the traced program is measured on.
 *
 * The tree is allocated from an arena, as production decoders do (protobuf's
 * Arena in C++ collectors): one bump pointer per thread, reset after each
 * request, instead of a malloc and a free for every message, string and
 * repeated field. With malloc the receiver spent most of its time in the
 * allocator, and on these two cores that time came out of nginx's and wrk's
 * share, which the shim's figure then carried. */
#include "otlp_decode.h"

#include <sys/mman.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

/* Virtual size of a thread's arena; only the pages a request's tree touches
 * become resident (a 512-span batch takes a few MiB). */
#define ARENA_BYTES ((size_t)256 << 20)

struct arena {
    uint8_t *base;
    size_t used;
};

static void *arena_alloc(void *data, size_t size)
{
    struct arena *a = data;
    size_t at = (a->used + 15) & ~(size_t)15;

    if (size > ARENA_BYTES - at)
        return NULL; /* the unpack fails: counted as malformed */
    a->used = at + size;
    return a->base + at;
}

static void arena_free(void *data, void *pointer)
{
    (void)data;
    (void)pointer; /* everything goes at once, when the arena is reset */
}

long otlp_decode_traces(const uint8_t *body, size_t len)
{
    static __thread struct arena arena;
    if (arena.base == NULL) {
        void *mem = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED)
            return -1;
        arena.base = mem;
    }
    arena.used = 0;
    ProtobufCAllocator allocator = {.alloc = arena_alloc, .free = arena_free, .allocator_data = &arena};

    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(&allocator, len, body);
    if (req == NULL)
        return -1;
    long spans = 0;
    for (size_t i = 0; i < req->n_resource_spans; i++)
        for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++)
            spans += (long)req->resource_spans[i]->scope_spans[j]->n_spans;
    return spans;
}
