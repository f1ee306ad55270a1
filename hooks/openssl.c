/* Interposition of OpenSSL's record I/O: SSL_read, SSL_write and their _ex
 * forms see the plaintext of every TLS session, where trace headers can be
 * read and written (src/tls_io.c does the work).
 *
 * Nothing here runs in a program that does not call these functions, and
 * nothing is loaded: the real functions are looked up at the first call,
 * in the libssl the program already has (oa_real_library.h). A session's
 * traced stream hangs off the SSL object itself, in an OpenSSL "ex_data"
 * slot whose free callback ends it when the program calls SSL_free: no table
 * of our own, no hook on SSL_free. The socket and role of a session are
 * asked from OpenSSL (SSL_get_fd, SSL_is_server) at its first read or write,
 * after the handshake. Sessions over something other than a socket (memory
 * BIOs, custom BIOs) are not traced. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "base/common.h"
#include "base/guard.h"
#include "lifecycle/library.h"
#include "sys/real_library.h"
#include "sys/real_openssl.h"
#include "wire/tls_io.h"

typedef void ex_free_fn(void *parent, void *ptr, void *ad, int idx, long argl, void *argp);
typedef int ex_dup_fn(void *to, const void *from, void **from_d, int idx, long argl, void *argp);

/* CRYPTO_EX_INDEX_SSL in <openssl/crypto.h> (OpenSSL 1.1 and 3) */
#define EX_INDEX_SSL 0

/* The session slot; -1: sessions are not traced (no slot) */
static int ssl_ex_index;

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* What a session's slot holds when it is not traced. */
static struct oa_conn untraced;

static void on_session_free(void *parent, void *ptr, void *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)argl, (void)argp;
    if (ptr != NULL && ptr != &untraced && idx == ssl_ex_index)
        oa_tls_close(ptr);
}

/* SSL_dup copies the slots: the copy starts untraced rather than sharing. */
static int on_session_dup(void *to, const void *from, void **from_d, int idx, long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    if (from_d != NULL)
        *from_d = NULL;
    return 1;
}

static void bind_all(void)
{
    int saved = errno;
    oa_in_library++;
    oa_openssl_bind();
    ssl_ex_index = -1;
    if (oa_openssl.get_fd != NULL && oa_openssl.is_server != NULL && oa_openssl.get_ex_data != NULL &&
        oa_openssl.set_ex_data != NULL && oa_openssl.get_ex_new_index != NULL && oa_library_ready())
        ssl_ex_index = oa_openssl.get_ex_new_index(EX_INDEX_SSL, 0, NULL, NULL, on_session_dup, on_session_free);
    oa_in_library--;
    errno = saved;
}

static inline void bind_real(void)
{
    pthread_once(&bind_once, bind_all);
}

/* The session's traced stream, or NULL to pass through. */
static struct oa_conn *stream_of(SSL *s)
{
    if (oa_in_library || ssl_ex_index < 0 || s == NULL || !oa_library_ready())
        return NULL;
    struct oa_conn *c = oa_openssl.get_ex_data(s, ssl_ex_index);
    if (__builtin_expect(c != NULL, 1))
        return c != &untraced ? c : NULL;
    int saved = errno;
    /* first read or write of this session: the handshake is done */
    if (!oa_in_traced_transfer)
        c = oa_tls_open(oa_openssl.get_fd(s), oa_openssl.is_server(s) == 1);
    if (oa_openssl.set_ex_data(s, ssl_ex_index, c != NULL ? c : &untraced) != 1 && c != NULL) {
        oa_tls_close(c);
        c = NULL;
    }
    errno = saved;
    return c;
}


/* ---- the real writes in the shape oa_tls_send wants ---- */

static int real_write(void *s, const void *buf, size_t n, size_t *written)
{
    int r = oa_openssl.write(s, buf, (int)n);
    if (r > 0)
        *written = (size_t)r;
    return r > 0 ? 1 : r;
}

static int real_write_ex(void *s, const void *buf, size_t n, size_t *written)
{
    return oa_openssl.write_ex(s, buf, n, written);
}

OA_EXPORT int SSL_write(SSL *s, const void *buf, int num)
{
    EXPORTER_CALLS_ITS_OWN("SSL_write", int (*)(SSL *, const void *, int), s, buf, num);
    bind_real();
    if (oa_openssl.write == NULL)
        return -1;
    struct oa_conn *c = stream_of(s);
    if (__builtin_expect(c == NULL, 1) || num < 0)
        return oa_openssl.write(s, buf, num);
    size_t written = 0;
    int r = oa_tls_send(c, s, real_write, buf, (size_t)num, &written);
    return r == 1 ? (int)written : r;
}

OA_EXPORT int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written)
{
    EXPORTER_CALLS_ITS_OWN("SSL_write_ex", int (*)(SSL *, const void *, size_t, size_t *), s, buf, num, written);
    bind_real();
    if (oa_openssl.write_ex == NULL)
        return 0;
    struct oa_conn *c = stream_of(s);
    if (__builtin_expect(c == NULL, 1))
        return oa_openssl.write_ex(s, buf, num, written);
    size_t mine = 0;
    int r = oa_tls_send(c, s, real_write_ex, buf, num, &mine);
    if (r == 1 && written != NULL)
        *written = mine;
    return r;
}

OA_EXPORT int SSL_read(SSL *s, void *buf, int num)
{
    EXPORTER_CALLS_ITS_OWN("SSL_read", int (*)(SSL *, void *, int), s, buf, num);
    bind_real();
    if (oa_openssl.read == NULL)
        return -1;
    int r = oa_openssl.read(s, buf, num);
    if (r > 0) {
        struct oa_conn *c = stream_of(s);
        if (c != NULL)
            oa_tls_received(c, buf, (size_t)r);
    }
    return r;
}

OA_EXPORT int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *readbytes)
{
    EXPORTER_CALLS_ITS_OWN("SSL_read_ex", int (*)(SSL *, void *, size_t, size_t *), s, buf, num, readbytes);
    bind_real();
    if (oa_openssl.read_ex == NULL)
        return 0;
    int r = oa_openssl.read_ex(s, buf, num, readbytes);
    if (r == 1 && readbytes != NULL && *readbytes > 0) {
        struct oa_conn *c = stream_of(s);
        if (c != NULL)
            oa_tls_received(c, buf, *readbytes);
    }
    return r;
}

/* Every exported function here matches its entry in the list of interposed
 * symbols (sys/interposed.def), from which the real table is made. */
#define OA_OPENSSL(name, field, ret, params, args) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " as listed");
#include "sys/interposed.def"
