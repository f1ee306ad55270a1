/* The real OpenSSL functions (see real_openssl.h). */
#include "sys/real_library.h"
#include "sys/real_openssl.h"
#include "sys/real_symbols.h"

struct oa_openssl oa_openssl;

static const char *const names[] = {
#define OA_OPENSSL(name, field, ret, params, args) #name,
#define OA_OPENSSL_REAL(name, field, ret, params) #name,
#include "sys/interposed.def"
};

_Static_assert(sizeof(names) / sizeof(names[0]) == OA_TABLE_SIZE(struct oa_openssl), "one name per table field");

void oa_openssl_bind(void)
{
    static const char *const sonames[] = {"libssl.so.3", "libssl.so.1.1", "libssl.so", NULL};
    oa_real_bind(&oa_openssl, names, OA_TABLE_SIZE(oa_openssl), oa_real_library("SSL_read", sonames));
}
