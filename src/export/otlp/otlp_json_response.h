/* The answer to an OTLP/HTTP JSON request, read as far as it matters: a
 * partialSuccess says how many items the collector rejected and why. Not a
 * JSON parser: the two members are looked for by name, which is enough for
 * a warning (a response is never acted on beyond that). */
#ifndef OA_OTLP_JSON_RESPONSE_H
#define OA_OTLP_JSON_RESPONSE_H

#include "base/common.h"

/* From the response body[0..len): *rejected from "rejectedSpans" or
 * "rejectedDataPoints" (a decimal string or a number; 0 when absent) and
 * the text of "errorMessage" (its escapes undone for \" and \\ only,
 * others kept as written; "" when absent) into message[0..cap). True when
 * either says something was rejected. */
bool oa_otlp_json_partial_success(const char *body, size_t len, long long *rejected, char *message,
                                  size_t cap);

#endif
