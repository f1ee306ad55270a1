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
#include "wire/tls_io.h"

typedef struct ssl_st SSL;

/* CRYPTO_EX_INDEX_SSL in <openssl/crypto.h> (OpenSSL 1.1 and 3) */
#define EX_INDEX_SSL 0

typedef void ex_free_fn(void *parent, void *ptr, void *ad, int idx, long argl, void *argp);
typedef int ex_dup_fn(void *to, const void *from, void **from_d, int idx, long argl, void *argp);

static struct {
    int (*read)(SSL *, void *, int);
    int (*write)(SSL *, const void *, int);
    int (*read_ex)(SSL *, void *, size_t, size_t *);
    int (*write_ex)(SSL *, const void *, size_t, size_t *);
    int (*get_fd)(const SSL *);
    int (*is_server)(const SSL *);
    void *(*get_ex_data)(const SSL *, int);
    int (*set_ex_data)(SSL *, int, void *);
    int (*get_ex_new_index)(int, long, void *, void *, ex_dup_fn *, ex_free_fn *);
    int ex_index; /* -1: sessions are not traced (no slot) */
} ssl;

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* What a session's slot holds when it is not traced. */
static struct oa_conn untraced;

static void on_session_free(void *parent, void *ptr, void *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)argl, (void)argp;
    if (ptr != NULL && ptr != &untraced && idx == ssl.ex_index)
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
    static const char *const sonames[] = {"libssl.so.3", "libssl.so.1.1", "libssl.so", NULL};
    int saved = errno;
    oa_in_library++;
    void *lib = oa_real_library("SSL_read", sonames);
    ssl.read = oa_real_symbol(lib, "SSL_read");
    ssl.write = oa_real_symbol(lib, "SSL_write");
    ssl.read_ex = oa_real_symbol(lib, "SSL_read_ex");
    ssl.write_ex = oa_real_symbol(lib, "SSL_write_ex");
    ssl.get_fd = oa_real_symbol(lib, "SSL_get_fd");
    ssl.is_server = oa_real_symbol(lib, "SSL_is_server");
    ssl.get_ex_data = oa_real_symbol(lib, "SSL_get_ex_data");
    ssl.set_ex_data = oa_real_symbol(lib, "SSL_set_ex_data");
    ssl.get_ex_new_index = oa_real_symbol(lib, "CRYPTO_get_ex_new_index");
    ssl.ex_index = -1;
    if (ssl.get_fd != NULL && ssl.is_server != NULL && ssl.get_ex_data != NULL && ssl.set_ex_data != NULL &&
        ssl.get_ex_new_index != NULL && oa_library_ready())
        ssl.ex_index = ssl.get_ex_new_index(EX_INDEX_SSL, 0, NULL, NULL, on_session_dup, on_session_free);
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
    if (oa_in_library || ssl.ex_index < 0 || s == NULL || !oa_library_ready())
        return NULL;
    struct oa_conn *c = ssl.get_ex_data(s, ssl.ex_index);
    if (__builtin_expect(c != NULL, 1))
        return c != &untraced ? c : NULL;
    int saved = errno;
    /* first read or write of this session: the handshake is done */
    if (!oa_in_traced_transfer)
        c = oa_tls_open(ssl.get_fd(s), ssl.is_server(s) == 1);
    if (ssl.set_ex_data(s, ssl.ex_index, c != NULL ? c : &untraced) != 1 && c != NULL) {
        oa_tls_close(c);
        c = NULL;
    }
    errno = saved;
    return c;
}


/* ---- the real writes in the shape oa_tls_send wants ---- */

static int real_write(void *s, const void *buf, size_t n, size_t *written)
{
    int r = ssl.write(s, buf, (int)n);
    if (r > 0)
        *written = (size_t)r;
    return r > 0 ? 1 : r;
}

static int real_write_ex(void *s, const void *buf, size_t n, size_t *written)
{
    return ssl.write_ex(s, buf, n, written);
}

OA_EXPORT int SSL_write(SSL *s, const void *buf, int num)
{
    EXPORTER_CALLS_ITS_OWN("SSL_write", int (*)(SSL *, const void *, int), s, buf, num);
    bind_real();
    if (ssl.write == NULL)
        return -1;
    struct oa_conn *c = stream_of(s);
    if (__builtin_expect(c == NULL, 1) || num < 0)
        return ssl.write(s, buf, num);
    size_t written = 0;
    int r = oa_tls_send(c, s, real_write, buf, (size_t)num, &written);
    return r == 1 ? (int)written : r;
}

OA_EXPORT int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written)
{
    EXPORTER_CALLS_ITS_OWN("SSL_write_ex", int (*)(SSL *, const void *, size_t, size_t *), s, buf, num, written);
    bind_real();
    if (ssl.write_ex == NULL)
        return 0;
    struct oa_conn *c = stream_of(s);
    if (__builtin_expect(c == NULL, 1))
        return ssl.write_ex(s, buf, num, written);
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
    if (ssl.read == NULL)
        return -1;
    int r = ssl.read(s, buf, num);
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
    if (ssl.read_ex == NULL)
        return 0;
    int r = ssl.read_ex(s, buf, num, readbytes);
    if (r == 1 && readbytes != NULL && *readbytes > 0) {
        struct oa_conn *c = stream_of(s);
        if (c != NULL)
            oa_tls_received(c, buf, *readbytes);
    }
    return r;
}
