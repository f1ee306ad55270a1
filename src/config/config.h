/* Configuration from the standard OTEL_* environment variables (and OTELAUTO_*
 * where the standard has nothing). Read once at initialisation. */
#ifndef OA_CONFIG_H
#define OA_CONFIG_H

#include "base/common.h"

enum oa_sampler_kind {
    OA_SAMPLER_ALWAYS_ON = 0,
    OA_SAMPLER_ALWAYS_OFF,
    OA_SAMPLER_TRACEIDRATIO,
    OA_SAMPLER_PARENTBASED_ALWAYS_ON,
    OA_SAMPLER_PARENTBASED_ALWAYS_OFF,
    OA_SAMPLER_PARENTBASED_TRACEIDRATIO,
};

enum oa_traces_exporter {
    OA_TRACES_EXPORTER_OTLP = 0,
    OA_TRACES_EXPORTER_CONSOLE,
    OA_TRACES_EXPORTER_NONE,
    OA_TRACES_EXPORTER_ZIPKIN,
};

enum oa_metrics_exporter {
    OA_METRICS_EXPORTER_OTLP = 0,
    OA_METRICS_EXPORTER_PROMETHEUS,
    OA_METRICS_EXPORTER_CONSOLE,
    OA_METRICS_EXPORTER_NONE,
};

#define OA_CONFIG_MAX_HEADERS 32

/* The propagators OTEL_PROPAGATORS may list (xray and ottrace are warned
 * about and ignored). */
enum oa_propagator {
    OA_PROPAGATOR_TRACECONTEXT = 0,
    OA_PROPAGATOR_BAGGAGE,
    OA_PROPAGATOR_B3,          /* single header "b3" */
    OA_PROPAGATOR_B3MULTI,     /* X-B3-* headers */
    OA_PROPAGATOR_JAEGER,      /* uber-trace-id, uberctx-* */
    OA_PROPAGATOR_N,
};

/* OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL: how a signal's requests are encoded
 * and carried: protobuf or JSON over HTTP, or protobuf in a unary gRPC call
 * (HTTP/2). */
enum oa_otlp_protocol {
    OA_OTLP_HTTP_PROTOBUF = 0,
    OA_OTLP_HTTP_JSON,
    OA_OTLP_GRPC,
};

/* Span exporters OTEL_TRACES_EXPORTER may list at once: every distinct
 * name, with room to spare. */
#define OA_CONFIG_MAX_TRACES_EXPORTERS 8

/* One signal's OTLP exporter: each OTEL_EXPORTER_OTLP_<SIGNAL>_<OPTION>
 * (SIGNAL TRACES or METRICS) wins over the generic OTEL_EXPORTER_OTLP_<OPTION>,
 * so that, say, a traces-only API key is never sent with metrics. */
struct oa_config_otlp {
    /* resolved full URL, e.g. http://localhost:4318/v1/traces; for grpc the
     * collector's URL (http://localhost:4317), its path unused: the method's
     * path goes there */
    char endpoint[2048];
    /* ..._HEADERS, already decoded, as "Name: value" lines for libcurl */
    char headers[OA_CONFIG_MAX_HEADERS][512];
    int n_headers;
    long timeout_ms;                   /* ..._TIMEOUT (10000), 0 = no limit */
    bool compression_gzip;             /* ..._COMPRESSION=gzip */
    enum oa_otlp_protocol protocol;    /* ..._PROTOCOL (http/protobuf) */
    /* HTTPS to the collector: ..._CERTIFICATE (CA bundle that verifies the
     * collector, "" = the system's), ..._CLIENT_CERTIFICATE and ..._CLIENT_KEY
     * (mutual TLS, "" = none); PEM file paths */
    char certificate[1024];
    char client_certificate[1024];
    char client_key[1024];
};

/* The Zipkin span exporter: OTEL_EXPORTER_ZIPKIN_ENDPOINT and _TIMEOUT, the
 * only two variables the specification gives it. */
struct oa_config_zipkin {
    char endpoint[2048];               /* full URL (http://localhost:9411/api/v2/spans) */
    long timeout_ms;                   /* ..._TIMEOUT (10000), 0 = no limit */
};

struct oa_config {
    bool sdk_disabled;                 /* OTEL_SDK_DISABLED=true */
    /* OTELAUTO_CRASH_CAPTURE (true): on a fatal signal, the spans in flight
     * are ended with the crash and sent before the process dies
     * (src/lifecycle/crash.c); nothing in OTEL_* covers it */
    bool crash_capture;
    char service_name[256];            /* OTEL_SERVICE_NAME, "" if unset */
    char resource_attributes[4096];    /* OTEL_RESOURCE_ATTRIBUTES raw, "" if unset or undecodable */
    /* OTELAUTO_URL_SENSITIVE_QUERY_KEYS: query keys whose values are
     * redacted in url.query and url.full besides the built-in ones; a
     * comma-separated list, trimmed, "" if unset */
    char url_sensitive_query_keys[512];

    enum oa_sampler_kind sampler;      /* OTEL_TRACES_SAMPLER (parentbased_always_on) */
    double sampler_ratio;              /* OTEL_TRACES_SAMPLER_ARG (1.0), in [0,1] */

    /* OTEL_PROPAGATORS (tracecontext,baggage): the set, a bit per enum
     * oa_propagator, and the context propagators (all but baggage) in the
     * order listed: extraction runs them in that order and the last one
     * that finds a context wins, as the specification's composite
     * propagator does */
    unsigned propagators;
    uint8_t context_propagators[OA_PROPAGATOR_N];
    unsigned n_context_propagators;

    /* OTEL_TRACES_EXPORTER (otlp): the exporters listed, each once, in the
     * order given; none at all for "none" */
    enum oa_traces_exporter traces_exporters[OA_CONFIG_MAX_TRACES_EXPORTERS];
    unsigned n_traces_exporters;
    struct oa_config_otlp traces_otlp; /* OTEL_EXPORTER_OTLP_[TRACES_]* */
    struct oa_config_zipkin traces_zipkin; /* OTEL_EXPORTER_ZIPKIN_* */

    unsigned max_queue_size;           /* OTEL_BSP_MAX_QUEUE_SIZE (2048) */
    unsigned max_export_batch_size;    /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE (512), clamped to queue size */
    long schedule_delay_ms;            /* OTEL_BSP_SCHEDULE_DELAY (5000) */
    long bsp_export_timeout_ms;        /* OTEL_BSP_EXPORT_TIMEOUT (30000) */

    enum oa_metrics_exporter metrics_exporter; /* OTEL_METRICS_EXPORTER (otlp) */
    struct oa_config_otlp metrics_otlp; /* OTEL_EXPORTER_OTLP_[METRICS_]* */
    long metric_export_interval_ms;    /* OTEL_METRIC_EXPORT_INTERVAL (60000) */
    long metric_export_timeout_ms;     /* OTEL_METRIC_EXPORT_TIMEOUT (30000) */
    bool metrics_delta;                /* OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta|lowmemory */
    char prometheus_host[256];         /* OTEL_EXPORTER_PROMETHEUS_HOST (localhost) */
    int prometheus_port;               /* OTEL_EXPORTER_PROMETHEUS_PORT (9464) */

    /* OTELAUTO_DB_QUERY_TEXT (true): database spans carry db.query.text
     * (sanitized); false: never any query text */
    bool db_query_text;
    /* OTELAUTO_DB_SQLCOMMENTER (false): a query's text carries its CLIENT
     * span's traceparent in a sqlcommenter comment */
    bool db_sqlcommenter;

    int log_level;                     /* OTEL_LOG_LEVEL, enum oa_log_level; default OA_LOG_NONE (silent) */
};

extern struct oa_config oa_config;

/* Fills *c from the environment read through getenv_fn (secure_getenv in the
 * library, a fake in unit tests). Never allocates; never fails: bad values
 * fall back to defaults (with a warning logged at warn level). */
void oa_config_load(struct oa_config *c, const char *(*getenv_fn)(const char *name));

/* The "key1=value1,key2=value2" lists of OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_*HEADERS (W3C Baggage syntax, values percent-encoded),
 * shared by the configuration and the resource. */
struct oa_config_member {
    const char *key;       /* trimmed of spaces and tabs, still encoded */
    size_t key_len;
    const char *value;     /* trimmed, still encoded; NULL when there is no '=' */
    size_t value_len;
};

/* Returns the next non-empty member of the list at *cursor and advances it;
 * false at the end of the list. */
/* The variables' spelling of a loaded value, for messages ("otlp",
 * "parentbased_always_on"); "?" for a value no table names. */
const char *oa_config_sampler_name(enum oa_sampler_kind kind);
const char *oa_config_traces_exporter_name(enum oa_traces_exporter exporter);
const char *oa_config_metrics_exporter_name(enum oa_metrics_exporter exporter);
const char *oa_config_otlp_protocol_name(enum oa_otlp_protocol protocol);

/* Whether OTEL_PROPAGATORS listed p. */
static inline bool oa_config_propagates(const struct oa_config *c, enum oa_propagator p)
{
    return (c->propagators >> p) & 1u;
}

/* Whether it listed a context propagator other than tracecontext. */
static inline bool oa_config_propagates_other_formats(const struct oa_config *c)
{
    return (c->propagators & ((1u << OA_PROPAGATOR_B3) | (1u << OA_PROPAGATOR_B3MULTI) |
                              (1u << OA_PROPAGATOR_JAEGER))) != 0;
}

/* The variable's spelling of p ("b3multi"). */
const char *oa_config_propagator_name(enum oa_propagator p);

/* Whether OTEL_TRACES_EXPORTER listed exporter. */
bool oa_config_traces_exporter_on(const struct oa_config *c, enum oa_traces_exporter exporter);

bool oa_config_next_member(const char **cursor, struct oa_config_member *out);

/* Percent-decodes in[0..len) into out (NUL-terminated). Returns the decoded
 * length, or -1 on a malformed %-escape or when out_cap is too small. */
long oa_config_percent_decode(const char *in, size_t len, char *out, size_t out_cap);

#endif
