/* rpc.server.duration and rpc.client.duration (grpc_metrics.h). Service
 * and method names come from the peer's :path: the table's per-instrument
 * limit and overflow series bound them. */
#include <stddef.h>
#include <string.h>

#include "protocols/http2/grpc_metrics.h"

const double oa_grpc_duration_bounds[OA_GRPC_DURATION_BOUNDS] = {
    0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
};

static uint16_t instrument_id[OA_GRPC_INSTRUMENTS] = {UINT16_MAX, UINT16_MAX};

_Static_assert(offsetof(struct oa_grpc_metric_key, text) % 8 == 0, "the key's head is whole words");
_Static_assert(sizeof(struct oa_grpc_metric_key) % 8 == 0 && sizeof(struct oa_grpc_metric_key) <= OA_METRIC_KEY_MAX,
               "the key is whole words, within the table's room");
_Static_assert(OA_GRPC_METHOD_MAX < OA_GRPC_KEY_TEXT, "a method leaves room for a service");

void oa_grpc_metrics_start(struct oa_grpc_metric_call *m, bool server, const char *service, size_t service_len,
                           const char *method, size_t method_len, const char *host, size_t host_len, int port,
                           uint64_t start)
{
    m->recording = false;
    if (!oa_metrics_enabled())
        return;
    struct oa_grpc_metric_key *k = &m->key;
    memset(k, 0, offsetof(struct oa_grpc_metric_key, text));
    k->head.instrument = instrument_id[server ? OA_GRPC_SERVER_DURATION : OA_GRPC_CLIENT_DURATION];
    k->port = -1;
    k->status = -1;
    if (method_len > OA_GRPC_METHOD_MAX)
        method_len = OA_GRPC_METHOD_MAX;
    if (service_len > OA_GRPC_KEY_TEXT - method_len)
        service_len = OA_GRPC_KEY_TEXT - method_len;
    size_t used = 0;
    memcpy(k->text, service, service_len);
    used += service_len;
    memcpy(k->text + used, method, method_len);
    used += method_len;
    k->service_len = (uint8_t)service_len;
    k->method_len = (uint8_t)method_len;
    if (!server && host_len > 0 && host_len <= OA_GRPC_KEY_TEXT - used) {
        memcpy(k->text + used, host, host_len);
        used += host_len;
        k->address_len = (uint8_t)host_len;
        k->port = port;
    }
    k->head.size = (uint16_t)(offsetof(struct oa_grpc_metric_key, text) + used);
    /* the last word is compared whole: clear its rest */
    size_t word_end = (used + 7) & ~(size_t)7;
    memset(k->text + used, 0, word_end - used);
    m->start_unix_nano = start;
    m->recording = true;
    oa_metrics_reader_start();
}

void oa_grpc_metrics_finish_at(struct oa_grpc_metric_call *m, int status, const char *error, uint64_t end)
{
    if (!m->recording)
        return;
    m->recording = false;
    m->key.status = status;
    m->key.error_type = status < 0 ? error : NULL;
    uint64_t start = m->start_unix_nano;
    /* the wall clock may have stepped back meanwhile */
    oa_metrics_record_duration(oa_metrics_series(&m->key.head), end > start ? end - start : 0);
}

void oa_grpc_metrics_abandon(struct oa_grpc_metric_call *m)
{
    m->recording = false;
}

static void key_attributes(struct oa_metric_point *p, const struct oa_metric_key_head *head)
{
    const struct oa_grpc_metric_key *k = (const struct oa_grpc_metric_key *)head;
    oa_metric_point_attr_str(p, "rpc.system", "grpc", 4);
    if (k->service_len > 0)
        oa_metric_point_attr_str(p, "rpc.service", k->text, k->service_len);
    if (k->method_len > 0)
        oa_metric_point_attr_str(p, "rpc.method", k->text + k->service_len, k->method_len);
    if (k->status >= 0)
        oa_metric_point_attr_int(p, "rpc.grpc.status_code", k->status);
    if (k->error_type != NULL)
        oa_metric_point_attr_str(p, "error.type", k->error_type, strlen(k->error_type));
    if (k->address_len > 0) {
        oa_metric_point_attr_str(p, "server.address", k->text + k->service_len + k->method_len, k->address_len);
        if (k->port >= 0)
            oa_metric_point_attr_int(p, "server.port", k->port);
    }
}

/* the two differ by name and description only */
#define GRPC_DURATION(name_, description_)                                                                   \
    {                                                                                                    \
        .name = (name_), .description = (description_), .unit = "ms", .kind = OA_INSTRUMENT_HISTOGRAM,  \
        .bounds = oa_grpc_duration_bounds, .n_bounds = OA_GRPC_DURATION_BOUNDS,                          \
        .attributes = key_attributes, .key_size = sizeof(struct oa_grpc_metric_key),                     \
    }

static const struct oa_instrument_desc instruments[OA_GRPC_INSTRUMENTS] = {
    [OA_GRPC_SERVER_DURATION] = GRPC_DURATION("rpc.server.duration", "Measures the duration of inbound RPC."),
    [OA_GRPC_CLIENT_DURATION] = GRPC_DURATION("rpc.client.duration", "Measures the duration of outbound RPC."),
};

void oa_grpc_metrics_register(void)
{
    static bool registered;
    if (registered)
        return;
    registered = true;
    for (int i = 0; i < OA_GRPC_INSTRUMENTS; i++) {
        int id = oa_metrics_instrument_register(&instruments[i]);
        instrument_id[i] = id >= 0 ? (uint16_t)id : UINT16_MAX;
    }
}
