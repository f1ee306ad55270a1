/* The real libcurl functions behind hooks/libcurl.c and the ones it calls
 * (the OA_LIBCURL* entries of sys/interposed.def), looked up in the libcurl
 * the process already has (real_library.h): nothing is loaded. */
#ifndef OA_REAL_LIBCURL_H
#define OA_REAL_LIBCURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct oa_libcurl {
#define OA_LIBCURL(name, field, ret, params, args) ret(*field) params;
#define OA_LIBCURL_VARARGS(name, field, ret, params) ret(*field) params;
#define OA_LIBCURL_REAL(name, field, ret, params) ret(*field) params;
#include "sys/interposed.def"
};

extern struct oa_libcurl oa_libcurl;

/* Fills the table (entries stay NULL where there is no libcurl). The caller
 * runs it once, at the first call of a hook. */
void oa_libcurl_bind(void);

#endif
