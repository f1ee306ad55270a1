/* The OpenTelemetry environment-variable carrier: TRACEPARENT, TRACESTATE
 * and BAGGAGE (same values as the W3C headers).
 *
 * Out: a program started while a thread handles a request gets that
 * request's context in these variables (oa_env_carrier_exec); any it would
 * have inherited are replaced. Started outside any request, its environment
 * is left exactly as the program passed it.
 * In: a process started with TRACEPARENT uses it as the parent of the
 * client spans that have no server request to belong to (loaded once, at
 * configuration). */
#ifndef OA_ENV_CARRIER_H
#define OA_ENV_CARRIER_H

#include "base/common.h"

/* Reads the variables through getenv_fn; needs oa_config loaded. */
void oa_env_carrier_load(const char *(*getenv_fn)(const char *name));

/* Calls run(arg, env) with envp plus this thread's context, or with envp
 * itself when there is none (or tracing is off, or the environment is too
 * large to copy on the stack). Writes no shared memory, takes no lock and
 * does not allocate: safe between fork (or vfork) and exec. Returns what
 * run returned. */
int oa_env_carrier_exec(char *const envp[], int (*run)(void *arg, char *const env[]), void *arg);

#endif
