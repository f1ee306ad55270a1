/* The environment-variable carrier (see oa_env_carrier.h). */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "trace/env_carrier.h"
#include "base/guard.h"
#include "base/log.h"
#include "trace/traceparent.h"
#include "trace/tracestate.h"
#include "trace/baggage.h"
#include "trace/thread_context.h"

/* Environments with more entries are passed on unchanged: the new vector
 * lives on the stack of the calling thread (maybe a vfork child's). */
#define ENV_MAX_ENTRIES 4096

#define TRACEPARENT_VAR "TRACEPARENT="
#define TRACESTATE_VAR "TRACESTATE="
#define BAGGAGE_VAR "BAGGAGE="

void oa_env_carrier_load(const char *(*getenv_fn)(const char *name))
{
    bool tracecontext = oa_config_propagates(&oa_config, OA_PROPAGATOR_TRACECONTEXT);
    const char *tp = tracecontext ? getenv_fn("TRACEPARENT") : NULL;
    struct oa_span_context parent;
    if (tp == NULL || !oa_traceparent_parse(tp, strlen(tp), &parent))
        return;
    char tracestate[OA_TRACESTATE_MAX + 1] = "";
    const char *ts = getenv_fn("TRACESTATE");
    if (ts != NULL && oa_tracestate_normalize(ts, strlen(ts), tracestate, sizeof(tracestate)) < 0)
        tracestate[0] = '\0';
    char baggage[OA_BAGGAGE_MAX + 1] = "";
    size_t baggage_len = 0;
    const char *bg = oa_config_propagates(&oa_config, OA_PROPAGATOR_BAGGAGE) ? getenv_fn("BAGGAGE") : NULL;
    if (bg != NULL)
        baggage_len = oa_baggage_sanitize(bg, strlen(bg), baggage, sizeof(baggage));
    /* the process works on behalf of that remote span: its spans are the
     * remote span's children, like a server request's */
    struct oa_server_context *ctx =
        oa_server_context_new(&parent, &parent, tracestate, strlen(tracestate), baggage, baggage_len);
    if (ctx != NULL) {
        oa_thread_context_set_process(ctx);
        OA_DEBUG("parent from TRACEPARENT: %.55s", tp);
    }
}

static bool has_prefix(const char *s, const char *prefix, size_t len)
{
    return strncmp(s, prefix, len) == 0;
}

/* The entries of the carrier this call replaces. */
static bool replaced(const char *entry)
{
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_TRACECONTEXT) &&
        (has_prefix(entry, TRACEPARENT_VAR, sizeof(TRACEPARENT_VAR) - 1) ||
         has_prefix(entry, TRACESTATE_VAR, sizeof(TRACESTATE_VAR) - 1)))
        return true;
    return oa_config_propagates(&oa_config, OA_PROPAGATOR_BAGGAGE) &&
           has_prefix(entry, BAGGAGE_VAR, sizeof(BAGGAGE_VAR) - 1);
}

static size_t put(char *dst, const char *name, size_t name_len, const char *value, size_t value_len)
{
    memcpy(dst, name, name_len);
    memcpy(dst + name_len, value, value_len);
    dst[name_len + value_len] = '\0';
    return name_len + value_len + 1;
}

int oa_env_carrier_exec(char *const envp[], int (*run)(void *arg, char *const env[]), void *arg)
{
    if (!oa_library_ready() || oa_in_library || envp == NULL)
        return run(arg, envp);
    const struct oa_server_context *ctx = oa_thread_context_peek();
    if (ctx == NULL || (!oa_config_propagates(&oa_config, OA_PROPAGATOR_TRACECONTEXT) &&
                        !oa_config_propagates(&oa_config, OA_PROPAGATOR_BAGGAGE)))
        return run(arg, envp);
    size_t n = 0;
    while (envp[n] != NULL && n <= ENV_MAX_ENTRIES)
        n++;
    if (n > ENV_MAX_ENTRIES)
        return run(arg, envp);

    size_t ts_len = strlen(ctx->tracestate);
    size_t bg_len = strlen(ctx->baggage);
    char lines[sizeof(TRACEPARENT_VAR) + OA_TRACEPARENT_LEN + sizeof(TRACESTATE_VAR) + ts_len +
               sizeof(BAGGAGE_VAR) + bg_len];
    char *env[n + 4];
    size_t k = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        if (!replaced(envp[i]))
            env[k++] = envp[i];
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_TRACECONTEXT)) {
        char tp[OA_TRACEPARENT_LEN + 1];
        oa_traceparent_format(&ctx->sc, tp);
        env[k++] = lines + pos;
        pos += put(lines + pos, TRACEPARENT_VAR, sizeof(TRACEPARENT_VAR) - 1, tp, OA_TRACEPARENT_LEN);
        if (ts_len > 0) {
            env[k++] = lines + pos;
            pos += put(lines + pos, TRACESTATE_VAR, sizeof(TRACESTATE_VAR) - 1, ctx->tracestate, ts_len);
        }
    }
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_BAGGAGE) && bg_len > 0) {
        env[k++] = lines + pos;
        pos += put(lines + pos, BAGGAGE_VAR, sizeof(BAGGAGE_VAR) - 1, ctx->baggage, bg_len);
    }
    env[k] = NULL;
    return run(arg, env);
}
