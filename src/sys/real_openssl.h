/* The real OpenSSL functions behind hooks/openssl.c and the ones it calls
 * (the OA_OPENSSL and OA_OPENSSL_REAL entries of sys/interposed.def), looked
 * up in the libssl the process already has (real_library.h): nothing is
 * loaded, and a libssl opened RTLD_LOCAL (Python's _ssl) is found too. */
#ifndef OA_REAL_OPENSSL_H
#define OA_REAL_OPENSSL_H

#include <stddef.h>

typedef struct ssl_st SSL;

struct oa_openssl {
#define OA_OPENSSL(name, field, ret, params, args) ret(*field) params;
#define OA_OPENSSL_REAL(name, field, ret, params) ret(*field) params;
#include "sys/interposed.def"
};

extern struct oa_openssl oa_openssl;

/* Fills the table (entries stay NULL where there is no libssl, or it lacks
 * them). The caller runs it once, at the first call of a hook. */
void oa_openssl_bind(void);

#endif
