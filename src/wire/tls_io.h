/* The plaintext stream of a TLS session, traced like a plain TCP connection:
 * the same connection state (struct oa_conn, with tls set), the same parser
 * and injection machinery (src/http_exchange.c, the planning of
 * src/conn_io.c), fed by the TLS library hooks (hooks/openssl.c) instead of
 * the socket calls. The socket under it is no longer parsed. */
#ifndef OA_TLS_IO_H
#define OA_TLS_IO_H

#include <stddef.h>

#include "wire/fd_table.h"

/* A session over socket fd starts being traced (server: it accepted the
 * handshake). Returns its stream, or NULL when it is not to be traced. */
struct oa_conn *oa_tls_open(int fd, bool server);
/* The session is freed: spans in flight end with the connection. */
void oa_tls_close(struct oa_conn *c);

/* One real write call of the TLS library, in the shape of SSL_write_ex:
 * returns 1 and sets *written, or returns what the library returned (<= 0). */
typedef int (*oa_tls_write_fn)(void *session, const void *buf, size_t n, size_t *written);

/* The program writes n bytes: writes them through w with any owed trace
 * headers spliced in. Returns like w, with *written counting the program's
 * bytes only. A write the library refused (want read/write) is repeated by
 * the program with the same arguments; then exactly the same bytes, from the
 * same buffer, are given to the library again, as OpenSSL requires. */
int oa_tls_send(struct oa_conn *c, void *session, oa_tls_write_fn w, const void *buf, size_t n, size_t *written);

/* The program read n > 0 plaintext bytes. */
void oa_tls_received(struct oa_conn *c, const void *buf, size_t n);

struct oa_crash_walk; /* wire/protocol.h */
/* The crash capture: the requests in flight of every open TLS session (as
 * oa_fd_table_crash_walk does for sockets; sessions beyond the first
 * OA_TLS_CRASH_SLOTS open at once are not seen). */
#define OA_TLS_CRASH_SLOTS 1024
void oa_tls_crash_walk(const struct oa_crash_walk *w);

#endif
