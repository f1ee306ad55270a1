/* The per-thread "inside the library" flag and the process's on/off state (see guard.h), in a file of its
 * own so that engine code and unit tests can use it without the library's
 * constructor. */
#include "base/guard.h"

__thread int oa_in_library __attribute__((tls_model("initial-exec")));
__thread int oa_in_traced_transfer __attribute__((tls_model("initial-exec")));
int oa_library_state;
