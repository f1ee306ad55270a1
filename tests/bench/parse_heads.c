/* The HTTP/1 parser alone on typical heads, for counting its instructions
 * per head in each mode (scripts/measure-parse-cost.sh runs it under
 * callgrind). The parser's source is compiled in: bench programs link no
 * engine.
 *
 *   parse_heads MODE HEAD N    MODE 0 FULL, 1 LIGHT; HEAD an index below */
#include "../../src/base/pool.c"
#include "../../src/protocols/http1/http1_parser.c"

#include <stdio.h>

static const char *const heads[] = {
    /* build/bench/request_loop's request and response */
    "GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: request_loop\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok",
    /* a browser's request */
    "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\nCookie: session=abcdef0123456789; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n\r\n",
    /* nginx serving a small file */
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 01:40:00 GMT\r\n"
    "Content-Type: text/html\r\nContent-Length: 2\r\nLast-Modified: Mon, 30 Nov 2026 10:00:00 GMT\r\n"
    "Connection: keep-alive\r\nETag: \"656c1a20-2\"\r\nAccept-Ranges: bytes\r\n\r\nok",
    /* wrk's request */
    "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
};

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int mode = atoi(argv[1]);
    size_t which = (size_t)atoi(argv[2]);
    long n = atol(argv[3]);
    if (which >= sizeof(heads) / sizeof(heads[0]))
        return 2;
    const char *h = heads[which];
    size_t len = strlen(h);
    static struct oa_http1_parser p;
    oa_http1_init_mode(&p, h[0] == 'H' ? OA_HTTP1_RESPONSES : OA_HTTP1_REQUESTS,
                       mode ? OA_HTTP1_LIGHT : OA_HTTP1_FULL);
    for (long i = 0; i < n; i++) {
        const char *b = h;
        size_t left = len;
        while (left > 0) {
            enum oa_http1_event ev;
            size_t used = oa_http1_feed(&p, b, left, &ev);
            b += used;
            left -= used;
            if (ev == OA_HTTP1_ERROR || ev == OA_HTTP1_NOT_HTTP) {
                fprintf(stderr, "head %zu: not parsed\n", which);
                return 1;
            }
        }
    }
    oa_http1_release(&p);
    return 0;
}
