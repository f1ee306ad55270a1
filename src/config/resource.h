/* The process's Resource: service.name, OTEL_RESOURCE_ATTRIBUTES,
 * telemetry.sdk.*, process.*, host.name. Built once at initialisation. */
#ifndef OA_RESOURCE_H
#define OA_RESOURCE_H

#include "base/common.h"
#include "config/config.h"

#define OA_RESOURCE_MAX_ATTRS 64

struct oa_resource {
    struct oa_attr attrs[OA_RESOURCE_MAX_ATTRS];
    size_t n_attrs;
    char storage[8192];  /* keys and values live here */
    size_t storage_used;
};

extern struct oa_resource oa_resource;

/* Builds *r from the configuration and the process (/proc/self/exe, getpid,
 * gethostname). OTEL_SERVICE_NAME wins over service.name from
 * OTEL_RESOURCE_ATTRIBUTES; default service.name is
 * "unknown_service:<executable name>". A percent-decoding error discards the
 * whole OTEL_RESOURCE_ATTRIBUTES. Re-run in a forked child (process.pid). */
void oa_resource_build(struct oa_resource *r, const struct oa_config *c);

/* Returns the value of key, or NULL. */
const struct oa_attr *oa_resource_find(const struct oa_resource *r, const char *key);

#endif
