/* The real libcurl functions (see real_libcurl.h). */
#include "sys/real_libcurl.h"
#include "sys/real_library.h"
#include "sys/real_symbols.h"

struct oa_libcurl oa_libcurl;

static const char *const names[] = {
#define OA_LIBCURL(name, field, ret, params, args) #name,
#define OA_LIBCURL_VARARGS(name, field, ret, params) #name,
#define OA_LIBCURL_REAL(name, field, ret, params) #name,
#include "sys/interposed.def"
};

_Static_assert(sizeof(names) / sizeof(names[0]) == OA_TABLE_SIZE(struct oa_libcurl), "one name per table field");

void oa_libcurl_bind(void)
{
    static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4", NULL};
    oa_real_bind(&oa_libcurl, names, OA_TABLE_SIZE(oa_libcurl), oa_real_library("curl_easy_perform", sonames));
}
