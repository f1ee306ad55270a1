/* Configuration from the environment, following the OpenTelemetry SDK
 * environment variable rules: an empty value is the same as unset, booleans
 * are true only for "true" (any case), enumerations are case-insensitive and
 * an unknown value is warned about and ignored, a bad number keeps the default.
 *
 * This runs in the library constructor, before the program's main, so it
 * allocates nothing and calls nothing that could enter our own hooks: every
 * result goes into the fixed buffers of struct oa_config. Numbers are parsed by
 * hand so that the program's locale cannot change their meaning. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "base/log.h"

struct oa_config oa_config;

typedef const char *(*oa_getenv_fn)(const char *name);

#define DEFAULT_TRACES_ENDPOINT "http://localhost:4318/v1/traces"
#define TRACES_PATH "v1/traces"
#define DEFAULT_METRICS_ENDPOINT "http://localhost:4318/v1/metrics"
#define METRICS_PATH "v1/metrics"
/* gRPC has no path per signal: the method names the signal. */
#define DEFAULT_GRPC_ENDPOINT "http://localhost:4317"
#define DEFAULT_ZIPKIN_ENDPOINT "http://localhost:9411/api/v2/spans"

/* Durations above a day are certainly mistakes, and capping them keeps every
 * later conversion to nanoseconds far from overflow. */
#define MAX_DURATION_MS (24L * 60 * 60 * 1000)
/* Each queued span is a few kilobytes: a million of them is already gigabytes. */
#define MAX_QUEUE_SIZE (1L << 20)

struct named_value {
    const char *name;
    int value;
};

static const struct named_value sampler_names[] = {
    {"always_on", OA_SAMPLER_ALWAYS_ON},
    {"always_off", OA_SAMPLER_ALWAYS_OFF},
    {"traceidratio", OA_SAMPLER_TRACEIDRATIO},
    {"parentbased_always_on", OA_SAMPLER_PARENTBASED_ALWAYS_ON},
    {"parentbased_always_off", OA_SAMPLER_PARENTBASED_ALWAYS_OFF},
    {"parentbased_traceidratio", OA_SAMPLER_PARENTBASED_TRACEIDRATIO},
};

/* Standard values we know but do not implement: worth a clearer warning. */
static const char *const unsupported_samplers[] = {
    "jaeger_remote",
    "parentbased_jaeger_remote",
    "xray",
};

static const struct named_value exporter_names[] = {
    {"otlp", OA_TRACES_EXPORTER_OTLP},
    {"console", OA_TRACES_EXPORTER_CONSOLE},
    {"none", OA_TRACES_EXPORTER_NONE},
    {"zipkin", OA_TRACES_EXPORTER_ZIPKIN},
};

static const struct named_value metrics_exporter_names[] = {
    {"otlp", OA_METRICS_EXPORTER_OTLP},
    {"prometheus", OA_METRICS_EXPORTER_PROMETHEUS},
    {"console", OA_METRICS_EXPORTER_CONSOLE},
    {"none", OA_METRICS_EXPORTER_NONE},
};

static const struct named_value otlp_protocol_names[] = {
    {"http/protobuf", OA_OTLP_HTTP_PROTOBUF},
    {"http/json", OA_OTLP_HTTP_JSON},
    {"grpc", OA_OTLP_GRPC},
};

/* lowmemory asks for delta on synchronous counters and histograms: all the
 * delta-capable instruments we have. */
static const struct named_value temporality_names[] = {
    {"cumulative", 0},
    {"delta", 1},
    {"lowmemory", 1},
};

static const struct named_value log_level_names[] = {
    {"none", OA_LOG_NONE},    {"off", OA_LOG_NONE},  {"error", OA_LOG_ERROR}, {"warn", OA_LOG_WARN},
    {"warning", OA_LOG_WARN}, {"info", OA_LOG_INFO}, {"debug", OA_LOG_DEBUG},
};

/* indexed by enum oa_propagator */
static const char *const propagator_names[OA_PROPAGATOR_N] = {
    [OA_PROPAGATOR_TRACECONTEXT] = "tracecontext",
    [OA_PROPAGATOR_BAGGAGE] = "baggage",
    [OA_PROPAGATOR_B3] = "b3",
    [OA_PROPAGATOR_B3MULTI] = "b3multi",
    [OA_PROPAGATOR_JAEGER] = "jaeger",
};

static const char *const unsupported_propagators[] = {
    "xray", "ottrace",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static char ascii_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_ows((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*s)[*len - 1]))
        (*len)--;
}

/* word is lower case */
static bool equals_ignoring_case(const char *s, size_t len, const char *word)
{
    if (strlen(word) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (ascii_lower(s[i]) != word[i])
            return false;
    }
    return true;
}

static bool starts_with_ignoring_case(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && equals_ignoring_case(s, n, prefix);
}

static bool find_name(const struct named_value *table, size_t n, const char *s, size_t len,
                      int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (equals_ignoring_case(s, len, table[i].name)) {
            *out = table[i].value;
            return true;
        }
    }
    return false;
}

static const char *name_of(const struct named_value *table, size_t n, int value)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].value == value)
            return table[i].name;
    }
    return "?";
}

const char *oa_config_sampler_name(enum oa_sampler_kind kind)
{
    return name_of(sampler_names, sizeof sampler_names / sizeof sampler_names[0], (int)kind);
}

const char *oa_config_traces_exporter_name(enum oa_traces_exporter exporter)
{
    return name_of(exporter_names, sizeof exporter_names / sizeof exporter_names[0], (int)exporter);
}

const char *oa_config_metrics_exporter_name(enum oa_metrics_exporter exporter)
{
    return name_of(metrics_exporter_names,
                   sizeof metrics_exporter_names / sizeof metrics_exporter_names[0], (int)exporter);
}

const char *oa_config_otlp_protocol_name(enum oa_otlp_protocol protocol)
{
    return name_of(otlp_protocol_names, COUNT_OF(otlp_protocol_names), (int)protocol);
}

static bool in_list(const char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (equals_ignoring_case(s, len, list[i]))
            return true;
    }
    return false;
}

/* Empty counts as unset. */
static const char *env_value(oa_getenv_fn getenv_fn, const char *name)
{
    const char *v = getenv_fn(name);
    return (v && v[0] != '\0') ? v : NULL;
}

/* Room for the longest exporter variable name,
 * OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE. */
#define OTLP_VAR_NAME_MAX 64

/* OTEL_EXPORTER_OTLP_<signal>_<option> wins over the generic
 * OTEL_EXPORTER_OTLP_<option>; var receives the name of the one the value
 * came from, for warnings. */
static const char *env_value_for_signal(oa_getenv_fn getenv_fn, const char *signal,
                                        const char *option, char var[OTLP_VAR_NAME_MAX])
{
    const char *v;

    snprintf(var, OTLP_VAR_NAME_MAX, "OTEL_EXPORTER_OTLP_%s_%s", signal, option);
    v = env_value(getenv_fn, var);
    if (!v) {
        snprintf(var, OTLP_VAR_NAME_MAX, "OTEL_EXPORTER_OTLP_%s", option);
        v = env_value(getenv_fn, var);
    }
    return v;
}

/* Copies s[0..len) and a NUL into out when it fits. */
static bool copy_exact(char *out, size_t cap, const char *s, size_t len)
{
    if (len >= cap)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* Non-negative decimal integer, spaces around allowed. */
static bool parse_count(const char *v, long *out)
{
    const char *s = v;
    size_t len = strlen(v);
    long acc = 0;

    trim(&s, &len);
    if (len > 0 && s[0] == '+') {
        s++;
        len--;
    }
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        /* Anything past a trillion is out of every range we use. */
        if (acc > 1000000000000L)
            return false;
        acc = acc * 10 + (s[i] - '0');
    }
    *out = acc;
    return true;
}

static long env_count(oa_getenv_fn getenv_fn, const char *name, long def, long min, long max)
{
    const char *v = env_value(getenv_fn, name);
    long n;

    if (!v)
        return def;
    if (!parse_count(v, &n) || n < min) {
        OA_WARN("%s=\"%s\" is not a valid value; using %ld", name, v, def);
        return def;
    }
    if (n > max) {
        OA_WARN("%s=%ld is too large; using %ld", name, n, max);
        return max;
    }
    return n;
}

/* A decimal number in [0, 1]: digits, optionally a fraction. */
static bool parse_ratio(const char *v, double *out)
{
    const char *s = v;
    size_t len = strlen(v);
    size_t i = 0;
    double value = 0.0;
    double scale = 0.1;
    bool any_digit = false;

    trim(&s, &len);
    if (len > 0 && s[0] == '+')
        i++;
    for (; i < len && is_digit(s[i]); i++) {
        if (value > 1.0)
            return false;
        value = value * 10.0 + (s[i] - '0');
        any_digit = true;
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++) {
            value += (s[i] - '0') * scale;
            scale /= 10.0;
            any_digit = true;
        }
    }
    if (!any_digit || i != len || value > 1.0)
        return false;
    *out = value;
    return true;
}

static void load_bool(oa_getenv_fn getenv_fn, const char *name, bool *out)
{
    const char *v = env_value(getenv_fn, name);
    size_t len;

    if (!v)
        return;
    len = strlen(v);
    trim(&v, &len);
    *out = equals_ignoring_case(v, len, "true");
    if (!*out && !equals_ignoring_case(v, len, "false"))
        OA_WARN("%s: \"%.*s\" is neither true nor false; using false", name, (int)len, v);
}

/* Sets *out only for a known name. */
static bool load_enum(oa_getenv_fn getenv_fn, const char *name, const struct named_value *table,
                      size_t n, int *out)
{
    const char *v = env_value(getenv_fn, name);
    size_t len;

    if (!v)
        return false;
    len = strlen(v);
    trim(&v, &len);
    if (find_name(table, n, v, len, out))
        return true;
    OA_WARN("%s: unknown value \"%.*s\" ignored", name, (int)len, v);
    return false;
}

static void load_log_level(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    int level = OA_LOG_NONE;

    /* The threshold is set first so that the level's own warning shows with
     * whatever level is in force. */
    oa_log_threshold = OA_LOG_NONE;
    load_enum(getenv_fn, "OTEL_LOG_LEVEL", log_level_names, COUNT_OF(log_level_names), &level);
    c->log_level = level;
    oa_log_threshold = level;
}

static bool is_ratio_sampler(enum oa_sampler_kind kind)
{
    return kind == OA_SAMPLER_TRACEIDRATIO || kind == OA_SAMPLER_PARENTBASED_TRACEIDRATIO;
}

static void load_sampler(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTEL_TRACES_SAMPLER");
    const char *arg;
    int kind;
    size_t len;

    c->sampler = OA_SAMPLER_PARENTBASED_ALWAYS_ON;
    c->sampler_ratio = 1.0;
    if (!v)
        return;
    len = strlen(v);
    trim(&v, &len);
    if (find_name(sampler_names, COUNT_OF(sampler_names), v, len, &kind)) {
        c->sampler = (enum oa_sampler_kind)kind;
    } else if (in_list(unsupported_samplers, COUNT_OF(unsupported_samplers), v, len)) {
        OA_WARN("OTEL_TRACES_SAMPLER: \"%.*s\" is not supported; using parentbased_always_on",
                (int)len, v);
    } else {
        OA_WARN("OTEL_TRACES_SAMPLER: unknown value \"%.*s\" ignored", (int)len, v);
    }

    /* The argument only means something to the sampler it was given for. */
    arg = env_value(getenv_fn, "OTEL_TRACES_SAMPLER_ARG");
    if (!arg || !is_ratio_sampler(c->sampler))
        return;
    if (!parse_ratio(arg, &c->sampler_ratio)) {
        c->sampler_ratio = 1.0;
        OA_WARN("OTEL_TRACES_SAMPLER_ARG=\"%s\" is not a ratio in [0, 1]; using 1.0", arg);
    }
}

static void add_propagator(struct oa_config *c, enum oa_propagator p)
{
    /* a name listed twice counts once, where it was first listed */
    if (oa_config_propagates(c, p))
        return;
    c->propagators |= 1u << p;
    if (p != OA_PROPAGATOR_BAGGAGE)
        c->context_propagators[c->n_context_propagators++] = (uint8_t)p;
}

static void load_propagators(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTEL_PROPAGATORS");
    const char *p;

    c->propagators = 0;
    c->n_context_propagators = 0;
    if (!v) {
        add_propagator(c, OA_PROPAGATOR_TRACECONTEXT);
        add_propagator(c, OA_PROPAGATOR_BAGGAGE);
        return;
    }
    /* Set means exactly the listed ones. */
    p = v;
    while (*p) {
        const char *item = p;
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool found = false;

        p = comma ? comma + 1 : p + len;
        trim(&item, &len);
        if (len == 0 || equals_ignoring_case(item, len, "none"))
            continue;
        for (unsigned i = 0; i < OA_PROPAGATOR_N && !found; i++) {
            if (equals_ignoring_case(item, len, propagator_names[i])) {
                add_propagator(c, (enum oa_propagator)i);
                found = true;
            }
        }
        if (found)
            continue;
        if (in_list(unsupported_propagators, COUNT_OF(unsupported_propagators), item, len))
            OA_WARN("OTEL_PROPAGATORS: \"%.*s\" is not supported; ignored", (int)len, item);
        else
            OA_WARN("OTEL_PROPAGATORS: unknown value \"%.*s\" ignored", (int)len, item);
    }
}

const char *oa_config_propagator_name(enum oa_propagator p)
{
    return (unsigned)p < OA_PROPAGATOR_N ? propagator_names[p] : "?";
}

/* Whether the comma-separated list starting at list names item (which is
 * in it, len bytes) before item itself. */
static bool listed_before(const char *list, const char *item, size_t len)
{
    while (list < item) {
        const char *name = list;
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);

        list = comma ? comma + 1 : list + n;
        trim(&name, &n);
        if (name < item && n == len && strncasecmp(name, item, len) == 0)
            return true;
    }
    return false;
}

/* OTEL_TRACES_EXPORTER is a comma-separated list: every exporter listed
 * gets every batch. A name given twice counts once (a span printed twice
 * helps nobody); an unknown one is warned about once (the variable is read
 * once per process, and a name listed twice is said once) and skipped; "none" means none only alone, and is
 * ignored beside real exporters. A list of nothing but unknown names keeps
 * the default, as an unknown single value always did. */
static void load_exporter(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTEL_TRACES_EXPORTER");
    const char *list = v;
    bool none = false;
    bool any_known = false;

    c->traces_exporters[0] = OA_TRACES_EXPORTER_OTLP;
    c->n_traces_exporters = 1;
    if (!v)
        return;
    c->n_traces_exporters = 0;
    while (*v) {
        const char *item = v;
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        int kind;
        bool seen = false;

        v = comma ? comma + 1 : v + len;
        trim(&item, &len);
        if (len == 0)
            continue;
        if (!find_name(exporter_names, COUNT_OF(exporter_names), item, len, &kind)) {
            if (!listed_before(list, item, len))
                OA_WARN("OTEL_TRACES_EXPORTER: unknown or unsupported value \"%.*s\" skipped", (int)len, item);
            continue;
        }
        any_known = true;
        if (kind == OA_TRACES_EXPORTER_NONE) {
            none = true;
            continue;
        }
        for (unsigned i = 0; i < c->n_traces_exporters; i++)
            seen = seen || c->traces_exporters[i] == (enum oa_traces_exporter)kind;
        if (!seen && c->n_traces_exporters < OA_CONFIG_MAX_TRACES_EXPORTERS)
            c->traces_exporters[c->n_traces_exporters++] = (enum oa_traces_exporter)kind;
    }
    if (none && c->n_traces_exporters > 0)
        OA_WARN("OTEL_TRACES_EXPORTER: \"none\" beside other exporters is ignored");
    if (!any_known) {
        OA_WARN("OTEL_TRACES_EXPORTER: no known exporter listed; using otlp");
        c->traces_exporters[0] = OA_TRACES_EXPORTER_OTLP;
        c->n_traces_exporters = 1;
    }
}

bool oa_config_traces_exporter_on(const struct oa_config *c, enum oa_traces_exporter exporter)
{
    for (unsigned i = 0; i < c->n_traces_exporters && i < OA_CONFIG_MAX_TRACES_EXPORTERS; i++) {
        if (c->traces_exporters[i] == exporter)
            return true;
    }
    return false;
}

/* Offset just past "scheme://host:port", or 0 if s is not an http(s) URL
 * with a host. */
static size_t url_authority_end(const char *s, size_t len)
{
    size_t start;

    if (starts_with_ignoring_case(s, len, "http://"))
        start = 7;
    else if (starts_with_ignoring_case(s, len, "https://"))
        start = 8;
    else
        return 0;
    size_t end = start;
    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
        end++;
    return end > start ? end : 0;
}

/* OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT is the full URL, used as-is; only a URL
 * without any path gets the root path "/". */
static bool endpoint_from_signal_url(char *out, size_t cap, const char *url, size_t len)
{
    size_t authority_end = url_authority_end(url, len);
    int n;

    if (authority_end == 0)
        return false;
    if (authority_end < len && url[authority_end] == '/')
        return copy_exact(out, cap, url, len);
    n = snprintf(out, cap, "%.*s/%.*s", (int)authority_end, url, (int)(len - authority_end),
                 url + authority_end);
    return n > 0 && (size_t)n < cap;
}

/* OTEL_EXPORTER_OTLP_ENDPOINT is a base URL for all signals: the signal's
 * path is appended to it, after a '/' if it has none. */
static bool endpoint_from_base_url(char *out, size_t cap, const char *url, size_t len,
                                   const char *path)
{
    int n;

    if (url_authority_end(url, len) == 0)
        return false;
    n = snprintf(out, cap, "%.*s%s%s", (int)len, url, url[len - 1] == '/' ? "" : "/", path);
    return n > 0 && (size_t)n < cap;
}

/* A gRPC endpoint, from either variable, is used as it is. One without a
 * scheme ("collector:4317") is https unless ..._INSECURE=true. */
static bool endpoint_for_grpc(char *out, size_t cap, const char *url, size_t len, bool insecure)
{
    int n;

    if (url_authority_end(url, len) != 0)
        return copy_exact(out, cap, url, len);
    if (len == 0 || url[0] == '/' || memmem(url, len, "://", 3) != NULL)
        return false;
    n = snprintf(out, cap, "%s%.*s", insecure ? "http://" : "https://", (int)len, url);
    return n > 0 && (size_t)n < cap;
}

/* How a signal's endpoint is made from the variables: path is what the
 * generic base URL gets appended (NULL for grpc: nothing), def the default. */
struct endpoint_rules {
    const char *path;
    const char *def;
    bool insecure;
};

static bool endpoint_from(char *out, size_t cap, const struct endpoint_rules *r, bool own,
                          const char *url, size_t len)
{
    if (!r->path)
        return endpoint_for_grpc(out, cap, url, len, r->insecure);
    return own ? endpoint_from_signal_url(out, cap, url, len)
               : endpoint_from_base_url(out, cap, url, len, r->path);
}

/* One signal's endpoint: its own variable (full URL), else the generic base
 * URL plus path, else the default. */
static void load_signal_endpoint(char *out, size_t cap, oa_getenv_fn getenv_fn, const char *signal,
                                 const struct endpoint_rules *r)
{
    char signal_var[OTLP_VAR_NAME_MAX];
    const char *own;
    const char *base = env_value(getenv_fn, "OTEL_EXPORTER_OTLP_ENDPOINT");
    size_t len;

    snprintf(signal_var, sizeof signal_var, "OTEL_EXPORTER_OTLP_%s_ENDPOINT", signal);
    own = env_value(getenv_fn, signal_var);

    if (own) {
        len = strlen(own);
        trim(&own, &len);
        if (endpoint_from(out, cap, r, true, own, len))
            return;
        OA_WARN("%s: \"%.*s\" is not a usable http(s) URL; ignored", signal_var, (int)len, own);
    }
    if (base) {
        len = strlen(base);
        trim(&base, &len);
        if (endpoint_from(out, cap, r, false, base, len))
            return;
        OA_WARN("OTEL_EXPORTER_OTLP_ENDPOINT: \"%.*s\" is not a usable http(s) URL; ignored",
                (int)len, base);
    }
    copy_exact(out, cap, r->def, strlen(r->def));
}

static bool is_token_char(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit((char)ch))
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_header_name(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_token_char((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* A header value goes on the wire as-is: no control characters, above all
 * no CR or LF that would let a value start a header of its own. */
static bool is_header_value(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return false;
    }
    return true;
}

/* Warnings name a header by its position only: values are often secrets. */
static void add_header(struct oa_config_otlp *o, const char *var, int index,
                       const struct oa_config_member *m)
{
    char name[sizeof o->headers[0]];
    char value[sizeof o->headers[0]];
    long name_len;
    long value_len;
    int n;

    if (!m->value) {
        OA_WARN("%s: member %d has no '='; ignored", var, index);
        return;
    }
    name_len = oa_config_percent_decode(m->key, m->key_len, name, sizeof name);
    value_len = oa_config_percent_decode(m->value, m->value_len, value, sizeof value);
    if (name_len < 0 || value_len < 0 || !is_header_name(name, (size_t)name_len) ||
        !is_header_value(value, (size_t)value_len)) {
        OA_WARN("%s: member %d is malformed or too long; ignored", var, index);
        return;
    }
    if (o->n_headers >= OA_CONFIG_MAX_HEADERS) {
        OA_WARN("%s: more than %d headers; member %d ignored", var, OA_CONFIG_MAX_HEADERS, index);
        return;
    }
    /* A cut header (a token, a password) is worse than none. */
    n = snprintf(o->headers[o->n_headers], sizeof o->headers[0], "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof o->headers[0]) {
        o->headers[o->n_headers][0] = '\0';
        OA_WARN("%s: member %d is too long; ignored", var, index);
        return;
    }
    o->n_headers++;
}

static void load_headers(struct oa_config_otlp *o, oa_getenv_fn getenv_fn, const char *signal)
{
    char var[OTLP_VAR_NAME_MAX];
    const char *v = env_value_for_signal(getenv_fn, signal, "HEADERS", var);
    struct oa_config_member m;
    int index = 0;

    o->n_headers = 0;
    if (!v)
        return;
    while (oa_config_next_member(&v, &m))
        add_header(o, var, ++index, &m);
}

/* A file path for the exporter's TLS; one too long for out is ignored (a
 * cut path names another file). */
static void load_path(char *out, size_t cap, oa_getenv_fn getenv_fn, const char *signal,
                      const char *option)
{
    char var[OTLP_VAR_NAME_MAX];
    const char *v = env_value_for_signal(getenv_fn, signal, option, var);
    size_t len = v ? strlen(v) : 0;

    out[0] = '\0';
    if (!v)
        return;
    trim(&v, &len);
    if (!copy_exact(out, cap, v, len))
        OA_WARN("%s: path longer than %zu bytes; ignored", var, cap - 1);
}

/* ..._PROTOCOL: the signal's own variable wins over the generic one, as
 * for every option. */
static enum oa_otlp_protocol load_protocol(oa_getenv_fn getenv_fn, const char *signal)
{
    char var[OTLP_VAR_NAME_MAX];
    const char *v = env_value_for_signal(getenv_fn, signal, "PROTOCOL", var);
    size_t len;
    int protocol;

    if (!v)
        return OA_OTLP_HTTP_PROTOBUF;
    len = strlen(v);
    trim(&v, &len);
    if (find_name(otlp_protocol_names, COUNT_OF(otlp_protocol_names), v, len, &protocol))
        return (enum oa_otlp_protocol)protocol;
    OA_WARN("%s: unknown value \"%.*s\" ignored; using http/protobuf", var, (int)len, v);
    return OA_OTLP_HTTP_PROTOBUF;
}

/* One signal's exporter options; signal is "TRACES" or "METRICS", path its
 * URL path under a base endpoint, default_endpoint its OTLP/HTTP default.
 * The protocol comes first: it decides how the endpoint is made. */
static void load_otlp_options(struct oa_config_otlp *o, oa_getenv_fn getenv_fn, const char *signal,
                              const char *path, const char *default_endpoint)
{
    char var[OTLP_VAR_NAME_MAX];
    const char *v;
    size_t len;
    bool insecure = false;

    o->protocol = load_protocol(getenv_fn, signal);
    /* ..._INSECURE only chooses the scheme of a gRPC endpoint given without
     * one; read whatever the protocol, as the other options are */
    if (env_value_for_signal(getenv_fn, signal, "INSECURE", var))
        load_bool(getenv_fn, var, &insecure);
    const struct endpoint_rules rules = {
        .path = o->protocol == OA_OTLP_GRPC ? NULL : path,
        .def = o->protocol == OA_OTLP_GRPC ? DEFAULT_GRPC_ENDPOINT : default_endpoint,
        .insecure = insecure,
    };
    load_signal_endpoint(o->endpoint, sizeof o->endpoint, getenv_fn, signal, &rules);
    load_headers(o, getenv_fn, signal);

    v = env_value_for_signal(getenv_fn, signal, "TIMEOUT", var);
    o->timeout_ms = v ? env_count(getenv_fn, var, 10000, 0, MAX_DURATION_MS) : 10000;

    o->compression_gzip = false;
    v = env_value_for_signal(getenv_fn, signal, "COMPRESSION", var);
    if (v) {
        len = strlen(v);
        trim(&v, &len);
        if (equals_ignoring_case(v, len, "gzip"))
            o->compression_gzip = true;
        else if (!equals_ignoring_case(v, len, "none"))
            OA_WARN("%s: unknown value \"%.*s\" ignored", var, (int)len, v);
    }

    load_path(o->certificate, sizeof o->certificate, getenv_fn, signal, "CERTIFICATE");
    load_path(o->client_certificate, sizeof o->client_certificate, getenv_fn, signal,
              "CLIENT_CERTIFICATE");
    load_path(o->client_key, sizeof o->client_key, getenv_fn, signal, "CLIENT_KEY");
}

/* Read whatever OTEL_TRACES_EXPORTER says, like the OTLP options: cheap,
 * and the run report can show them. The endpoint is a full URL, used as it
 * is (the specification appends no path). */
static void load_zipkin_options(struct oa_config_zipkin *z, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTEL_EXPORTER_ZIPKIN_ENDPOINT");
    size_t len;

    copy_exact(z->endpoint, sizeof z->endpoint, DEFAULT_ZIPKIN_ENDPOINT,
               sizeof DEFAULT_ZIPKIN_ENDPOINT - 1);
    if (v) {
        len = strlen(v);
        trim(&v, &len);
        if (!endpoint_from_signal_url(z->endpoint, sizeof z->endpoint, v, len)) {
            OA_WARN("OTEL_EXPORTER_ZIPKIN_ENDPOINT: \"%.*s\" is not a usable http(s) URL; ignored",
                    (int)len, v);
            copy_exact(z->endpoint, sizeof z->endpoint, DEFAULT_ZIPKIN_ENDPOINT,
                       sizeof DEFAULT_ZIPKIN_ENDPOINT - 1);
        }
    }
    z->timeout_ms = env_count(getenv_fn, "OTEL_EXPORTER_ZIPKIN_TIMEOUT", 10000, 0, MAX_DURATION_MS);
}

static void load_batch_options(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    long queue = env_count(getenv_fn, "OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1, MAX_QUEUE_SIZE);
    long batch = env_count(getenv_fn, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1, MAX_QUEUE_SIZE);

    if (batch > queue) {
        if (env_value(getenv_fn, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"))
            OA_WARN("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=%ld is larger than the queue; using %ld", batch,
                    queue);
        batch = queue;
    }
    c->max_queue_size = (unsigned)queue;
    c->max_export_batch_size = (unsigned)batch;
    c->schedule_delay_ms =
        env_count(getenv_fn, "OTEL_BSP_SCHEDULE_DELAY", 5000, 0, MAX_DURATION_MS);
    c->bsp_export_timeout_ms =
        env_count(getenv_fn, "OTEL_BSP_EXPORT_TIMEOUT", 30000, 0, MAX_DURATION_MS);
}

/* Kept raw for the resource, but only if the whole list is well formed:
 * one bad member discards the variable. */
static void load_resource_attributes(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTEL_RESOURCE_ATTRIBUTES");
    const char *cursor = v;
    struct oa_config_member m;
    char scratch[sizeof c->resource_attributes];

    c->resource_attributes[0] = '\0';
    if (!v)
        return;
    if (!copy_exact(c->resource_attributes, sizeof c->resource_attributes, v, strlen(v))) {
        OA_WARN("OTEL_RESOURCE_ATTRIBUTES is longer than %zu bytes; ignored",
                sizeof c->resource_attributes - 1);
        return;
    }
    while (oa_config_next_member(&cursor, &m)) {
        if (!m.value || m.key_len == 0 ||
            oa_config_percent_decode(m.key, m.key_len, scratch, sizeof scratch) <= 0 ||
            oa_config_percent_decode(m.value, m.value_len, scratch, sizeof scratch) < 0) {
            OA_WARN("OTEL_RESOURCE_ATTRIBUTES: malformed member \"%.*s\"; the variable is ignored",
                    (int)m.key_len, m.key);
            c->resource_attributes[0] = '\0';
            return;
        }
    }
}

static void load_service_name(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTEL_SERVICE_NAME");
    size_t len;

    c->service_name[0] = '\0';
    if (!v)
        return;
    len = strlen(v);
    if (len >= sizeof c->service_name) {
        /* Cut on a character boundary rather than mid-way through UTF-8. */
        len = sizeof c->service_name - 1;
        while (len > 0 && ((unsigned char)v[len] & 0xc0) == 0x80)
            len--;
        OA_WARN("OTEL_SERVICE_NAME is longer than %zu bytes; truncated",
                sizeof c->service_name - 1);
    }
    copy_exact(c->service_name, sizeof c->service_name, v, len);
}

/* Kept as the comma-separated text: it is read only when a URL with a
 * query is recorded, by the exporter's thread for server spans. */
static void load_url_sensitive_query_keys(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    const char *v = env_value(getenv_fn, "OTELAUTO_URL_SENSITIVE_QUERY_KEYS");

    c->url_sensitive_query_keys[0] = '\0';
    if (v && !copy_exact(c->url_sensitive_query_keys, sizeof c->url_sensitive_query_keys, v, strlen(v)))
        OA_WARN("OTELAUTO_URL_SENSITIVE_QUERY_KEYS is longer than %zu bytes; ignored",
                sizeof c->url_sensitive_query_keys - 1);
}

static void load_metrics_options(struct oa_config *c, oa_getenv_fn getenv_fn)
{
    int value = OA_METRICS_EXPORTER_OTLP;
    const char *host = env_value(getenv_fn, "OTEL_EXPORTER_PROMETHEUS_HOST");

    load_enum(getenv_fn, "OTEL_METRICS_EXPORTER", metrics_exporter_names,
              COUNT_OF(metrics_exporter_names), &value);
    c->metrics_exporter = (enum oa_metrics_exporter)value;
    value = 0;
    load_enum(getenv_fn, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", temporality_names,
              COUNT_OF(temporality_names), &value);
    c->metrics_delta = value != 0;
    load_otlp_options(&c->metrics_otlp, getenv_fn, "METRICS", METRICS_PATH,
                      DEFAULT_METRICS_ENDPOINT);
    c->metric_export_interval_ms =
        env_count(getenv_fn, "OTEL_METRIC_EXPORT_INTERVAL", 60000, 1, MAX_DURATION_MS);
    c->metric_export_timeout_ms =
        env_count(getenv_fn, "OTEL_METRIC_EXPORT_TIMEOUT", 30000, 0, MAX_DURATION_MS);
    if (!host || !copy_exact(c->prometheus_host, sizeof c->prometheus_host, host, strlen(host)))
        copy_exact(c->prometheus_host, sizeof c->prometheus_host, "localhost", 9);
    c->prometheus_port = (int)env_count(getenv_fn, "OTEL_EXPORTER_PROMETHEUS_PORT", 9464, 1, 65535);
}

void oa_config_load(struct oa_config *c, const char *(*getenv_fn)(const char *name))
{
    memset(c, 0, sizeof *c);
    load_log_level(c, getenv_fn);

    c->sdk_disabled = false;
    load_bool(getenv_fn, "OTEL_SDK_DISABLED", &c->sdk_disabled);
    c->crash_capture = true;
    load_bool(getenv_fn, "OTELAUTO_CRASH_CAPTURE", &c->crash_capture);
    load_service_name(c, getenv_fn);
    load_resource_attributes(c, getenv_fn);
    load_url_sensitive_query_keys(c, getenv_fn);
    load_sampler(c, getenv_fn);
    load_propagators(c, getenv_fn);
    load_exporter(c, getenv_fn);
    load_otlp_options(&c->traces_otlp, getenv_fn, "TRACES", TRACES_PATH, DEFAULT_TRACES_ENDPOINT);
    load_zipkin_options(&c->traces_zipkin, getenv_fn);
    load_batch_options(c, getenv_fn);
    load_metrics_options(c, getenv_fn);
    /* nothing in OTEL_* says whether query text is recorded */
    c->db_query_text = true;
    load_bool(getenv_fn, "OTELAUTO_DB_QUERY_TEXT", &c->db_query_text);
    /* nor whether trace context goes into the SQL (sqlcommenter): it changes
     * the program's statements, so only when asked */
    c->db_sqlcommenter = false;
    load_bool(getenv_fn, "OTELAUTO_DB_SQLCOMMENTER", &c->db_sqlcommenter);
}

bool oa_config_next_member(const char **cursor, struct oa_config_member *out)
{
    const char *p = *cursor;

    while (*p) {
        const char *member = p;
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq;

        p = comma ? comma + 1 : p + len;
        trim(&member, &len);
        if (len == 0)
            continue;
        eq = memchr(member, '=', len);
        out->key = member;
        out->key_len = eq ? (size_t)(eq - member) : len;
        out->value = NULL;
        out->value_len = 0;
        trim(&out->key, &out->key_len);
        if (eq) {
            out->value = eq + 1;
            out->value_len = len - (size_t)(eq + 1 - member);
            trim(&out->value, &out->value_len);
        }
        *cursor = p;
        return true;
    }
    *cursor = p;
    return false;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

long oa_config_percent_decode(const char *in, size_t len, char *out, size_t out_cap)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '%') {
            int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= out_cap)
            return -1;
        out[n++] = ch;
    }
    if (out_cap == 0)
        return -1;
    out[n] = '\0';
    return (long)n;
}
