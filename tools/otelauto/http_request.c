/* Just enough HTTP/1.1 for an OTLP receiver, strict where framing is
 * concerned (a request whose length is ambiguous is refused, never
 * guessed), lenient elsewhere. */
#include "http_request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* Copies value (trimmed of spaces and tabs) into out, lower-cased. */
static void copy_lower(char *out, size_t cap, const char *value, size_t len)
{
    while (len > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)value[i]);
    out[n] = '\0';
}

/* Does the comma-separated list (lower case) hold this token? */
static bool list_has(const char *list, const char *token)
{
    size_t tlen = strlen(token);
    for (const char *p = list; *p != '\0';) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed == tlen && strncmp(p, token, tlen) == 0)
            return true;
        p += len;
    }
    return false;
}

static enum http_parse_result bad(struct http_request *req, const char *why)
{
    req->error = why;
    return HTTP_BAD;
}

/* The request line: METHOD SP TARGET SP HTTP/1.x */
static enum http_parse_result parse_request_line(const char *line, size_t len, struct http_request *req,
                                                 int *minor)
{
    const char *sp1 = memchr(line, ' ', len);
    if (sp1 == NULL || sp1 == line || (size_t)(sp1 - line) >= sizeof req->method)
        return bad(req, "malformed request line");
    for (const char *c = line; c < sp1; c++) {
        if (!is_token_char((unsigned char)*c))
            return bad(req, "malformed method");
    }
    memcpy(req->method, line, (size_t)(sp1 - line));
    req->method[sp1 - line] = '\0';
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', len - (size_t)(target - line));
    if (sp2 == NULL || sp2 == target)
        return bad(req, "malformed request line");
    const char *version = sp2 + 1;
    size_t version_len = len - (size_t)(version - line);
    if (version_len != 8 || memcmp(version, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)version[7]))
        return bad(req, "unsupported HTTP version");
    *minor = version[7] - '0';
    size_t target_len = (size_t)(sp2 - target);
    const char *query = memchr(target, '?', target_len);
    if (query != NULL)
        target_len = (size_t)(query - target);
    if (target_len < sizeof req->path) {
        memcpy(req->path, target, target_len);
        req->path[target_len] = '\0';
    }
    return HTTP_COMPLETE;
}

/* Validates a chunked body starting at buf[0..len): sets *body_len (the
 * de-chunked size) and *total (bytes including the trailer), or returns
 * HTTP_INCOMPLETE/HTTP_BAD/HTTP_TOO_LARGE. Does not modify buf. */
static enum http_parse_result measure_chunked(const uint8_t *buf, size_t len, size_t body_max, size_t *body_len,
                                              size_t *total, struct http_request *req)
{
    size_t at = 0, body = 0;
    for (;;) {
        const uint8_t *eol = memchr(buf + at, '\n', len - at);
        if (eol == NULL)
            return len - at > 1024 ? bad(req, "malformed chunk size") : HTTP_INCOMPLETE;
        size_t size = 0, digits = 0;
        const uint8_t *p = buf + at;
        for (; isxdigit(*p); p++, digits++) {
            if (size > (SIZE_MAX >> 4))
                return bad(req, "chunk size overflow");
            size = size * 16 + (size_t)(isdigit(*p) ? *p - '0' : (tolower(*p) - 'a' + 10));
        }
        if (digits == 0 || (*p != '\r' && *p != ';' && *p != '\n'))
            return bad(req, "malformed chunk size");
        at = (size_t)(eol - buf) + 1;
        if (size == 0)
            break;
        if (size > body_max || body > body_max - size) {
            req->error = "body too large";
            return HTTP_TOO_LARGE;
        }
        if (len - at < size + 2)
            return HTTP_INCOMPLETE;
        if (buf[at + size] != '\r' || buf[at + size + 1] != '\n')
            return bad(req, "chunk not followed by CRLF");
        at += size + 2;
        body += size;
    }
    /* trailer fields, then an empty line */
    for (;;) {
        const uint8_t *eol = memchr(buf + at, '\n', len - at);
        if (eol == NULL)
            return len - at > HTTP_HEAD_MAX ? bad(req, "trailer too long") : HTTP_INCOMPLETE;
        size_t line_len = (size_t)(eol - (buf + at));
        at = (size_t)(eol - buf) + 1;
        if (line_len == 0 || (line_len == 1 && eol[-1] == '\r'))
            break;
    }
    *body_len = body;
    *total = at;
    return HTTP_COMPLETE;
}

/* De-chunks in place, once measure_chunked has validated buf[0..len): the
 * data only ever moves towards the start. */
static void unchunk(uint8_t *buf, size_t len)
{
    size_t at = 0, out = 0;
    for (;;) {
        size_t size = 0;
        uint8_t *p = buf + at;
        for (; isxdigit(*p); p++)
            size = size * 16 + (size_t)(isdigit(*p) ? *p - '0' : (tolower(*p) - 'a' + 10));
        at = (size_t)((uint8_t *)memchr(p, '\n', len - (size_t)(p - buf)) - buf) + 1;
        if (size == 0)
            return;
        memmove(buf + out, buf + at, size);
        out += size;
        at += size + 2;
    }
}

enum http_parse_result http_request_parse(uint8_t *buf, size_t len, size_t body_max, struct http_request *req)
{
    memset(req, 0, sizeof *req);
    size_t scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    const uint8_t *end = memmem(buf, scan, "\r\n\r\n", 4);
    if (end == NULL) {
        if (len >= HTTP_HEAD_MAX) {
            req->error = "request head too large";
            return HTTP_TOO_LARGE;
        }
        return HTTP_INCOMPLETE;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    req->head_complete = true;

    const char *line = (const char *)buf;
    const char *head_end = (const char *)end + 2; /* after the last header's CRLF */
    const char *eol = memmem(line, (size_t)(head_end - line), "\r\n", 2);
    int minor = 1;
    if (parse_request_line(line, (size_t)(eol - line), req, &minor) != HTTP_COMPLETE)
        return HTTP_BAD;

    bool has_length = false;
    size_t content_length = 0;
    char connection[64] = "", transfer_encoding[64] = "";
    for (line = eol + 2; line < head_end; line = eol + 2) {
        eol = memmem(line, (size_t)(head_end - line), "\r\n", 2);
        size_t line_len = (size_t)(eol - line);
        const char *colon = memchr(line, ':', line_len);
        if (colon == NULL || colon == line)
            return bad(req, "malformed header line");
        size_t name_len = (size_t)(colon - line);
        for (size_t i = 0; i < name_len; i++) {
            if (!is_token_char((unsigned char)line[i]))
                return bad(req, "malformed header name");
        }
        const char *value = colon + 1;
        size_t value_len = line_len - name_len - 1;
        if (name_len == 14 && strncasecmp(line, "content-length", 14) == 0) {
            char digits[32];
            copy_lower(digits, sizeof digits, value, value_len);
            if (digits[0] == '\0' || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 15)
                return bad(req, "malformed Content-Length");
            size_t n = (size_t)strtoull(digits, NULL, 10);
            if (has_length && n != content_length)
                return bad(req, "conflicting Content-Length headers");
            has_length = true;
            content_length = n;
        } else if (name_len == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
            copy_lower(transfer_encoding, sizeof transfer_encoding, value, value_len);
        } else if (name_len == 12 && strncasecmp(line, "content-type", 12) == 0) {
            size_t media = strcspn(value, ";\r");
            copy_lower(req->content_type, sizeof req->content_type, value, media < value_len ? media : value_len);
        } else if (name_len == 16 && strncasecmp(line, "content-encoding", 16) == 0) {
            copy_lower(req->content_encoding, sizeof req->content_encoding, value, value_len);
        } else if (name_len == 10 && strncasecmp(line, "connection", 10) == 0) {
            copy_lower(connection, sizeof connection, value, value_len);
        } else if (name_len == 6 && strncasecmp(line, "expect", 6) == 0) {
            char expect[32];
            copy_lower(expect, sizeof expect, value, value_len);
            req->expect_continue = strcmp(expect, "100-continue") == 0;
        }
    }
    req->keep_alive = minor >= 1 ? !list_has(connection, "close") : list_has(connection, "keep-alive");

    if (transfer_encoding[0] != '\0') {
        /* a length given twice is ambiguous: refused, not guessed */
        if (has_length)
            return bad(req, "both Content-Length and Transfer-Encoding");
        if (strcmp(transfer_encoding, "chunked") != 0)
            return bad(req, "unsupported Transfer-Encoding");
        req->chunked = true;
        size_t body_len, total;
        enum http_parse_result r =
            measure_chunked(buf + head_len, len - head_len, body_max, &body_len, &total, req);
        if (r != HTTP_COMPLETE)
            return r;
        unchunk(buf + head_len, total);
        req->body = buf + head_len;
        req->body_len = body_len;
        req->consumed = head_len + total;
        return HTTP_COMPLETE;
    }
    if (content_length > body_max) {
        req->error = "body too large";
        return HTTP_TOO_LARGE;
    }
    if (len - head_len < content_length)
        return HTTP_INCOMPLETE;
    req->body = buf + head_len;
    req->body_len = content_length;
    req->consumed = head_len + content_length;
    return HTTP_COMPLETE;
}
