/* The MySQL / MariaDB protocol of a client connection (see mysql_parser.h).
 * Packet and field layouts: dev.mysql.com "Client/Server Protocol" and
 * mariadb.com "Clients & Connectors / Client/Server Protocol". */
#include <string.h>

#include "protocols/mysql/mysql_parser.h"

/* Where the oldest command's reply is. */
enum reply_state {
    R_RESULT = 0,      /* OK, ERR, LOCAL INFILE request, or a result set's column count */
    R_COLUMNS,         /* column definitions (p->left to come) */
    R_COLUMNS_EOF,     /* the EOF after them */
    R_ROWS,            /* rows until EOF / OK (0xFE) or ERR */
    R_PREPARE,         /* COM_STMT_PREPARE's OK or ERR */
    R_PREPARE_PARAMS,  /* its parameter definitions (p->left to come) */
    R_PREPARE_PARAMS_EOF,
    R_PREPARE_COLUMNS, /* its column definitions (p->left to come) */
    R_PREPARE_COLUMNS_EOF,
    R_ONE,             /* one packet, whatever it is (OK, ERR, EOF, a string) */
    R_FIELD_LIST,      /* column definitions until EOF, or ERR */
    R_AUTH,            /* COM_CHANGE_USER: authentication until OK or ERR */
};

#define LONG_PACKET 0xFFFFFFu
#define CLIENT_LONG_PASSWORD 0x00000001u /* MariaDB: absent when extended capabilities follow */

/* The reply a command expects: its first state; -1 none; -2 unknown. */
static int reply_of(uint8_t command)
{
    switch (command) {
    case OA_MYSQL_COM_QUIT:
    case OA_MYSQL_COM_STMT_CLOSE:
    case 0x18: /* COM_STMT_SEND_LONG_DATA */
        return -1;
    case OA_MYSQL_COM_QUERY:
    case OA_MYSQL_COM_STMT_EXECUTE:
    case 0x0a: /* COM_PROCESS_INFO */
    case 0xfa: /* MariaDB COM_STMT_BULK_EXECUTE */
        return R_RESULT;
    case OA_MYSQL_COM_STMT_PREPARE:
        return R_PREPARE;
    case 0x04: /* COM_FIELD_LIST */
        return R_FIELD_LIST;
    case 0x1c: /* COM_STMT_FETCH */
        return R_ROWS;
    case 0x11: /* COM_CHANGE_USER */
        return R_AUTH;
    case 0x00: /* COM_SLEEP .. */
    case OA_MYSQL_COM_INIT_DB:
    case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: /* CREATE_DB, DROP_DB, REFRESH, SHUTDOWN, STATISTICS */
    case 0x0b: case 0x0c: case 0x0d: case 0x0e: case 0x0f: case 0x10: /* CONNECT, PROCESS_KILL, DEBUG, PING, TIME, DELAYED_INSERT */
    case 0x14: case 0x15: /* CONNECT_OUT, REGISTER_SLAVE */
    case 0x1a: case 0x1b: case 0x1f: /* STMT_RESET, SET_OPTION, RESET_CONNECTION */
        return R_ONE;
    default: /* binary log streams and what is unknown: not followed */
        return -2;
    }
}

void oa_mysql_parser_init(struct oa_mysql_parser *p)
{
    memset(p, 0, offsetof(struct oa_mysql_parser, in_keep));
    p->phase = OA_MYSQL_GREETING;
}

void oa_mysql_parser_after_tls(struct oa_mysql_parser *to, const struct oa_mysql_parser *from)
{
    oa_mysql_parser_init(to);
    to->phase = from->phase == OA_MYSQL_TLS ? OA_MYSQL_LOGIN : OA_MYSQL_DEAD;
    to->mariadb_ext = from->mariadb_ext;
    to->server_caps = from->server_caps;
    to->server_ext = from->server_ext;
}

bool oa_mysql_could_be_greeting(const unsigned char *b, size_t n)
{
    /* length: a version of a few characters and the fixed fields at least,
     * below 64 KiB */
    if (n >= 2 && (b[1] == 0 && b[0] < 32))
        return false;
    if (n >= 3 && b[2] != 0)
        return false;
    if (n >= 4 && b[3] != 0)
        return false;
    if (n >= 5 && b[4] != 10)
        return false;
    if (n >= 6 && (b[5] < '0' || b[5] > '9')) /* versions start with a digit */
        return false;
    size_t len = n >= 2 ? (size_t)b[0] | (size_t)b[1] << 8 : 0;
    for (size_t i = 6; i < n; i++) {
        if (b[i] == 0)
            return len == 0 || i < 4 + len;
        if (b[i] < 0x20 || b[i] > 0x7e || (len != 0 && i >= 4 + len))
            return false;
    }
    return true;
}

static inline uint16_t le16(const unsigned char *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A length-encoded integer at b[*at] within n bytes; false when malformed
 * or beyond what is kept. */
static bool lenenc(const unsigned char *b, size_t n, size_t *at, uint64_t *v)
{
    if (*at >= n)
        return false;
    unsigned char f = b[(*at)++];
    size_t w;
    if (f < 0xfb) {
        *v = f;
        return true;
    }
    if (f == 0xfc)
        w = 2;
    else if (f == 0xfd)
        w = 3;
    else if (f == 0xfe)
        w = 8;
    else
        return false;
    if (n - *at < w)
        return false;
    *v = 0;
    for (size_t i = 0; i < w; i++)
        *v |= (uint64_t)b[*at + i] << (8 * i);
    *at += w;
    return true;
}

static void die(struct oa_mysql_parser *p)
{
    p->phase = OA_MYSQL_DEAD;
}

/* ---- the server's packets ---- */

static void on_greeting(struct oa_mysql_parser *p, const unsigned char *k, size_t kept, uint64_t total,
                        const struct oa_mysql_events *ev, void *ctx)
{
    if (p->in.seq != 0 || kept < 2 || k[0] != 10) {
        die(p);
        return;
    }
    const unsigned char *nul = memchr(k + 1, 0, kept - 1);
    if (nul == NULL) {
        die(p);
        return;
    }
    size_t v = (size_t)(nul - k) + 1;
    if (kept < v + 15 || total < v + 15) { /* up to the capabilities' low half */
        die(p);
        return;
    }
    p->server_caps = le16(k + v + 13);
    if (kept >= v + 20)
        p->server_caps |= (uint32_t)le16(k + v + 18) << 16;
    if (!(p->server_caps & CLIENT_LONG_PASSWORD) && kept >= v + 31) {
        p->mariadb_ext = true;
        p->server_ext = le32(k + v + 27);
    }
    if (ev->greeting != NULL)
        ev->greeting(ctx, (const char *)k + 1, v - 2);
    p->phase = OA_MYSQL_LOGIN;
}

/* An OK, or an EOF (short 0xFE), or OK in 0xFE's clothing: its status flags. */
static bool ok_status(const struct oa_mysql_parser *p, const unsigned char *k, size_t kept, uint64_t total,
                      uint16_t *status)
{
    if (k[0] == 0xfe && total < 9) {
        /* EOF: warnings Int2, status Int2 (4.1) */
        *status = kept >= 5 ? le16(k + 3) : 0;
        return true;
    }
    size_t at = 1;
    uint64_t v;
    if (!lenenc(k, kept, &at, &v) || !lenenc(k, kept, &at, &v))
        return false;
    if (!(p->caps & OA_MYSQL_CLIENT_PROTOCOL_41)) {
        *status = 0;
        return true;
    }
    if (kept < at + 2)
        return false;
    *status = le16(k + at);
    return true;
}

/* The end of a result set (text or binary rows). */
static bool is_end_of_rows(const struct oa_mysql_parser *p, const unsigned char *k, uint64_t total)
{
    if (k[0] != 0xfe)
        return false;
    return (p->caps & OA_MYSQL_CLIENT_DEPRECATE_EOF) ? total < LONG_PACKET : total < 9;
}

static bool is_eof(const unsigned char *k, uint64_t total)
{
    return k[0] == 0xfe && total < 9;
}

/* Five digits or upper-case letters (SQL's SQLSTATE). */
static bool is_sqlstate(const unsigned char *b)
{
    for (int i = 0; i < 5; i++)
        if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'A' && b[i] <= 'Z')))
            return false;
    return true;
}

static void reply_done(struct oa_mysql_parser *p, const unsigned char *k, size_t kept, bool error,
                       const struct oa_mysql_events *ev, void *ctx)
{
    struct oa_mysql_inflight *f = &p->fl[p->first];
    struct oa_mysql_reply r = {.command = f->command, .traced = f->traced, .error = error};
    if (error && kept >= 3) {
        r.error_code = le16(k + 1);
        if (kept >= 9 && k[3] == '#' && is_sqlstate(k + 4)) {
            memcpy(r.sqlstate, k + 4, 5);
            r.sqlstate[5] = '\0';
        }
    }
    if (f->command == OA_MYSQL_COM_STMT_PREPARE && !error)
        r.statement_id = p->prepare_id;
    p->first = (uint8_t)((p->first + 1) % OA_MYSQL_MAX_INFLIGHT);
    p->count--;
    if (p->count > 0)
        p->reply_state = (uint8_t)reply_of(p->fl[p->first].command);
    if (ev->reply != NULL)
        ev->reply(ctx, &r);
}

/* After the definitions of a prepared statement's parameters: its columns'. */
static void prepare_columns_next(struct oa_mysql_parser *p, const unsigned char *k, size_t kept,
                                 const struct oa_mysql_events *ev, void *ctx)
{
    if (p->prepare_columns > 0) {
        p->left = p->prepare_columns;
        p->reply_state = R_PREPARE_COLUMNS;
    } else {
        reply_done(p, k, kept, false, ev, ctx);
    }
}

static void on_reply_packet(struct oa_mysql_parser *p, const unsigned char *k, size_t kept, uint64_t total,
                            const struct oa_mysql_events *ev, void *ctx)
{
    if (p->count == 0 || kept == 0) {
        die(p); /* nothing asked for it */
        return;
    }
    bool deprecate_eof = (p->caps & OA_MYSQL_CLIENT_DEPRECATE_EOF) != 0;
    uint16_t status = 0;
    switch (p->reply_state) {
    case R_RESULT:
        if (k[0] == 0xff) {
            if (kept >= 3 && le16(k + 1) == 0xffff)
                return; /* MariaDB's progress report */
            reply_done(p, k, kept, true, ev, ctx);
        } else if (k[0] == 0x00) {
            if (!ok_status(p, k, kept, total, &status)) {
                die(p);
            } else if (!(status & OA_MYSQL_SERVER_MORE_RESULTS_EXISTS)) {
                reply_done(p, k, kept, false, ev, ctx);
            }
        } else if (k[0] == 0xfb) {
            /* LOCAL INFILE: the client sends the file, then OK or ERR */
        } else {
            size_t at = 0;
            uint64_t n;
            if (!lenenc(k, kept, &at, &n) || n == 0) {
                die(p);
                return;
            }
            p->left = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
            /* MariaDB's metadata cache: a flag byte says whether the
             * definitions follow */
            if ((p->ext & OA_MARIADB_CLIENT_CACHE_METADATA) && at < kept && k[at] == 0)
                p->reply_state = deprecate_eof ? R_ROWS : R_COLUMNS_EOF;
            else
                p->reply_state = R_COLUMNS;
        }
        return;
    case R_COLUMNS:
        if (--p->left == 0)
            p->reply_state = deprecate_eof ? R_ROWS : R_COLUMNS_EOF;
        return;
    case R_COLUMNS_EOF:
        if (!is_eof(k, total) || !ok_status(p, k, kept, total, &status)) {
            die(p);
        } else if (status & OA_MYSQL_SERVER_STATUS_CURSOR_EXISTS) {
            reply_done(p, k, kept, false, ev, ctx); /* rows come with COM_STMT_FETCH */
        } else {
            p->reply_state = R_ROWS;
        }
        return;
    case R_ROWS:
        if (k[0] == 0xff) {
            reply_done(p, k, kept, true, ev, ctx);
        } else if (is_end_of_rows(p, k, total)) {
            if (!ok_status(p, k, kept, total, &status))
                die(p);
            else if (status & OA_MYSQL_SERVER_MORE_RESULTS_EXISTS)
                p->reply_state = R_RESULT;
            else
                reply_done(p, k, kept, false, ev, ctx);
        }
        return;
    case R_PREPARE:
        if (k[0] == 0xff) {
            reply_done(p, k, kept, true, ev, ctx);
        } else if (k[0] == 0x00 && kept >= 9) {
            p->prepare_id = le32(k + 1);
            p->prepare_columns = le16(k + 5);
            uint16_t params = le16(k + 7);
            if (params > 0) {
                p->left = params;
                p->reply_state = R_PREPARE_PARAMS;
            } else {
                prepare_columns_next(p, k, kept, ev, ctx);
            }
        } else {
            die(p);
        }
        return;
    case R_PREPARE_PARAMS:
        if (--p->left == 0) {
            if (!deprecate_eof)
                p->reply_state = R_PREPARE_PARAMS_EOF;
            else
                prepare_columns_next(p, k, kept, ev, ctx);
        }
        return;
    case R_PREPARE_PARAMS_EOF:
        if (!is_eof(k, total))
            die(p);
        else
            prepare_columns_next(p, k, kept, ev, ctx);
        return;
    case R_PREPARE_COLUMNS:
        if (--p->left == 0) {
            if (!deprecate_eof)
                p->reply_state = R_PREPARE_COLUMNS_EOF;
            else
                reply_done(p, k, kept, false, ev, ctx);
        }
        return;
    case R_PREPARE_COLUMNS_EOF:
        if (!is_eof(k, total))
            die(p);
        else
            reply_done(p, k, kept, false, ev, ctx);
        return;
    case R_ONE:
        reply_done(p, k, kept, k[0] == 0xff, ev, ctx);
        return;
    case R_FIELD_LIST:
        if (k[0] == 0xff)
            reply_done(p, k, kept, true, ev, ctx);
        else if (is_eof(k, total))
            reply_done(p, k, kept, false, ev, ctx);
        return;
    case R_AUTH:
        if (k[0] == 0x00 || k[0] == 0xff)
            reply_done(p, k, kept, k[0] == 0xff, ev, ctx);
        else if (k[0] != 0xfe && k[0] != 0x01)
            die(p);
        return;
    default:
        die(p);
    }
}

static void on_server_packet(struct oa_mysql_parser *p, const unsigned char *k, size_t kept, uint64_t total,
                             const struct oa_mysql_events *ev, void *ctx)
{
    switch (p->phase) {
    case OA_MYSQL_GREETING:
        on_greeting(p, k, kept, total, ev, ctx);
        return;
    case OA_MYSQL_AUTH:
        if (kept == 0) {
            die(p);
        } else if (k[0] == 0x00) {
            /* logged in; compressed framing from here on is not followed */
            if (p->caps & (OA_MYSQL_CLIENT_COMPRESS | OA_MYSQL_CLIENT_ZSTD))
                die(p);
            else
                p->phase = OA_MYSQL_COMMANDS;
        } else if (k[0] != 0xfe && k[0] != 0x01) {
            die(p); /* ERR: the login failed, the connection ends */
        }
        return;
    case OA_MYSQL_COMMANDS:
        on_reply_packet(p, k, kept, total, ev, ctx);
        return;
    default: /* the server speaks out of turn */
        die(p);
    }
}

/* ---- the client's packets ---- */

/* A NUL-terminated field at k[*at]; false when it runs past what is kept. */
static bool skip_string(const unsigned char *k, size_t kept, size_t *at)
{
    const unsigned char *nul = *at < kept ? memchr(k + *at, 0, kept - *at) : NULL;
    if (nul == NULL)
        return false;
    *at = (size_t)(nul - k) + 1;
    return true;
}

static void on_login(struct oa_mysql_parser *p, const unsigned char *k, size_t kept, uint64_t total,
                     const struct oa_mysql_events *ev, void *ctx)
{
    if (kept < 32) {
        die(p);
        return;
    }
    uint32_t caps = le32(k);
    if (!(caps & OA_MYSQL_CLIENT_PROTOCOL_41)) {
        die(p); /* HandshakeResponse320: pre-4.1 clients are not followed */
        return;
    }
    p->caps = caps & p->server_caps;
    if (p->mariadb_ext && !(caps & CLIENT_LONG_PASSWORD))
        p->ext = le32(k + 28) & p->server_ext;
    if (total == 32) {
        /* SSLRequest: TLS follows, with the real response inside */
        if (!(caps & OA_MYSQL_CLIENT_SSL))
            die(p);
        else
            p->phase = OA_MYSQL_TLS;
        return;
    }
    p->phase = OA_MYSQL_AUTH;
    /* user, auth response (never kept beyond this look), database */
    size_t at = 32;
    const char *db = NULL;
    size_t db_len = 0;
    if (skip_string(k, kept, &at)) {
        bool ok = true;
        uint64_t alen = 0;
        if (caps & OA_MYSQL_CLIENT_PLUGIN_AUTH_LENENC) {
            ok = lenenc(k, kept, &at, &alen);
        } else if (caps & OA_MYSQL_CLIENT_SECURE_CONNECTION) {
            ok = at < kept;
            if (ok)
                alen = k[at++];
        } else {
            ok = skip_string(k, kept, &at);
        }
        if (ok && alen <= kept - at) {
            at += (size_t)alen;
            size_t start = at;
            if ((caps & OA_MYSQL_CLIENT_CONNECT_WITH_DB) && skip_string(k, kept, &at) && at - 1 > start) {
                db = (const char *)k + start;
                db_len = at - 1 - start;
            }
        }
    }
    if (ev->handshake != NULL)
        ev->handshake(ctx, db, db_len);
}

static void on_command(struct oa_mysql_parser *p, const unsigned char *k, size_t kept, uint64_t total,
                       const struct oa_mysql_events *ev, void *ctx)
{
    if (p->out.seq != 0)
        return; /* LOCAL INFILE data, or what a command's authentication sends */
    if (kept == 0) {
        die(p);
        return;
    }
    int reply = reply_of(k[0]);
    if (reply == -2 || (reply >= 0 && p->count == OA_MYSQL_MAX_INFLIGHT)) {
        die(p);
        return;
    }
    bool traced = false;
    if (ev->command != NULL)
        traced = ev->command(ctx, k[0], k + 1, kept - 1, total > kept);
    if (reply < 0)
        return;
    if (p->count == 0)
        p->reply_state = (uint8_t)reply;
    p->fl[(p->first + p->count) % OA_MYSQL_MAX_INFLIGHT] = (struct oa_mysql_inflight){k[0], traced};
    p->count++;
}

static void on_client_packet(struct oa_mysql_parser *p, unsigned char *k, size_t kept, uint64_t total,
                             const struct oa_mysql_events *ev, void *ctx)
{
    switch (p->phase) {
    case OA_MYSQL_LOGIN:
        on_login(p, k, kept, total, ev, ctx);
        memset(k, 0, kept); /* the user's authentication data */
        return;
    case OA_MYSQL_AUTH:
        return; /* authentication data: not even kept */
    case OA_MYSQL_COMMANDS:
        on_command(p, k, kept, total, ev, ctx);
        return;
    default: /* the client speaks before the greeting */
        die(p);
    }
}

/* ---- framing ---- */

static bool feed(struct oa_mysql_parser *p, bool client, const unsigned char *b, size_t n,
                 const struct oa_mysql_events *ev, void *ctx)
{
    struct oa_mysql_reader *r = client ? &p->out : &p->in;
    unsigned char *keep = client ? p->out_keep : p->in_keep;
    size_t cap = client ? OA_MYSQL_CLIENT_KEEP : OA_MYSQL_SERVER_KEEP;
    while (p->phase != OA_MYSQL_DEAD) {
        if (p->phase == OA_MYSQL_TLS)
            return true; /* the socket carries TLS records now */
        if (r->header_got < 4) {
            if (n == 0)
                return true;
            r->header[r->header_got++] = *b++;
            n--;
            r->offset++;
            if (r->header_got < 4)
                continue;
            r->len = (uint32_t)r->header[0] | (uint32_t)r->header[1] << 8 | (uint32_t)r->header[2] << 16;
            r->got = 0;
            if (!r->more)
                r->seq = r->header[3];
        }
        size_t take = r->len - r->got;
        if (take > n)
            take = n;
        if (r->kept < cap && take > 0 && !(client && p->phase == OA_MYSQL_AUTH)) {
            size_t c = cap - r->kept < take ? cap - r->kept : take;
            memcpy(keep + r->kept, b, c);
            r->kept += (uint32_t)c;
        }
        r->got += (uint32_t)take;
        r->total += take;
        r->offset += take;
        b += take;
        n -= take;
        if (r->got < r->len)
            return true; /* n is 0 */
        r->header_got = 0;
        if (r->len == LONG_PACKET) {
            r->more = true;
            continue;
        }
        r->more = false;
        size_t kept = r->kept;
        uint64_t total = r->total;
        r->kept = 0;
        r->total = 0;
        if (client)
            on_client_packet(p, keep, kept, total, ev, ctx);
        else
            on_server_packet(p, keep, kept, total, ev, ctx);
    }
    return false;
}

bool oa_mysql_parse_client(struct oa_mysql_parser *p, const unsigned char *b, size_t n,
                           const struct oa_mysql_events *ev, void *ctx)
{
    return feed(p, true, b, n, ev, ctx);
}

bool oa_mysql_parse_server(struct oa_mysql_parser *p, const unsigned char *b, size_t n,
                           const struct oa_mysql_events *ev, void *ctx)
{
    return feed(p, false, b, n, ev, ctx);
}
