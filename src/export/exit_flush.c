/* The flush at exit (see exit_flush.h).
 *
 * Exit runs the atexit handlers, last registered first, and only then the
 * destructors of shared objects, ours included. libcurl's TLS library
 * (OpenSSL) registers its clean-up with atexit when it is initialised, by the
 * program or by our exporters; a flush from our destructor alone would use
 * libcurl after that clean-up (and crash in it). So the exporters register
 * the flush with atexit too, at moments only they know: the first span or
 * measurement (after the program's own TLS set-up, typically, and before a
 * short-lived program exits), and once they have initialised libcurl. */
#include <stdlib.h>

#include "base/log.h"
#include "export/exit_flush.h"

static void (*exit_flush)(void);

void oa_export_set_exit_flush(void (*flush)(void))
{
    __atomic_store_n(&exit_flush, flush, __ATOMIC_RELEASE);
}

void oa_export_register_exit_flush(int *registered)
{
    void (*flush)(void) = __atomic_load_n(&exit_flush, __ATOMIC_ACQUIRE);

    if (flush != NULL && !__atomic_exchange_n(registered, 1, __ATOMIC_ACQ_REL) && atexit(flush) != 0)
        OA_DEBUG("cannot register the flush at exit");
}
