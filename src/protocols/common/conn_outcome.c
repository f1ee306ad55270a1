/* What protocols do alike at a connection's end (conn_outcome.h). */
#include <string.h>

#include "protocols/common/conn_outcome.h"

const char *oa_conn_error_type(int err)
{
    if (err != 0) {
        const char *name = strerrorname_np(err);
        if (name != NULL)
            return name;
    }
    return "connection_closed";
}
