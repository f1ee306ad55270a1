/* Framing and head parsing of one HTTP/1.x request in a receive buffer, for
 * the tail receiver: Content-Length and chunked bodies, keep-alive. */
#ifndef OTELAUTO_HTTP_REQUEST_H
#define OTELAUTO_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 16384

enum http_parse_result {
    HTTP_INCOMPLETE, /* more bytes needed (head_complete says whether the head is in) */
    HTTP_COMPLETE,   /* a whole request: see body, body_len, consumed */
    HTTP_BAD,        /* malformed: answer 400 and close */
    HTTP_TOO_LARGE,  /* head or body over the limits: answer 413/431 and close */
};

struct http_request {
    char method[16];
    char path[256];          /* the target without its query; "" if longer */
    bool keep_alive;
    bool expect_continue;
    bool head_complete;
    bool chunked;
    char content_type[96];   /* media type only, lower case */
    char content_encoding[32];
    const uint8_t *body;     /* inside the buffer */
    size_t body_len;
    size_t consumed;         /* bytes of the buffer this request used */
    const char *error;       /* why HTTP_BAD / HTTP_TOO_LARGE */
};

/* Parses the request at the start of buf[0..len). A chunked body is
 * de-chunked in place once complete (buf is modified then). */
enum http_parse_result http_request_parse(uint8_t *buf, size_t len, size_t body_max, struct http_request *req);

#endif
