/* The MySQL / MariaDB client/server protocol as a client connection carries
 * it, both directions, byte at a time: packet framing (3-byte length,
 * sequence id; 0xFFFFFF-long packets continue in the next), the handshake
 * (greeting, HandshakeResponse41 or SSLRequest, authentication exchanges
 * until OK or ERR), then commands and the shape of their replies (OK, ERR,
 * EOF, result sets, prepared-statement answers, several result sets while
 * SERVER_MORE_RESULTS_EXISTS, LOCAL INFILE) until each command's reply ends.
 *
 * Pure: no spans, no clock, no allocation. Each logical packet is looked at
 * once it is complete, from the first bytes of its payload that the parser
 * keeps (bounded: rows are never buffered); events go to the caller's
 * struct oa_mysql_events. Anything that breaks the protocol's rules, and
 * anything it cannot follow (compression, replication streams, unknown
 * commands, too many commands in flight) kills the parser: the caller gives
 * the connection up. */
#ifndef OA_MYSQL_PARSER_H
#define OA_MYSQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Commands (first byte of a client packet with sequence id 0) */
enum {
    OA_MYSQL_COM_QUIT = 0x01,
    OA_MYSQL_COM_INIT_DB = 0x02,
    OA_MYSQL_COM_QUERY = 0x03,
    OA_MYSQL_COM_STMT_PREPARE = 0x16,
    OA_MYSQL_COM_STMT_EXECUTE = 0x17,
    OA_MYSQL_COM_STMT_CLOSE = 0x19,
};

/* Capability flags */
#define OA_MYSQL_CLIENT_CONNECT_WITH_DB 0x00000008u
#define OA_MYSQL_CLIENT_COMPRESS 0x00000020u
#define OA_MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define OA_MYSQL_CLIENT_SSL 0x00000800u
#define OA_MYSQL_CLIENT_SECURE_CONNECTION 0x00008000u
#define OA_MYSQL_CLIENT_PLUGIN_AUTH_LENENC 0x00200000u
#define OA_MYSQL_CLIENT_DEPRECATE_EOF 0x01000000u
#define OA_MYSQL_CLIENT_ZSTD 0x04000000u
#define OA_MYSQL_CLIENT_QUERY_ATTRIBUTES 0x08000000u
/* MariaDB's extended capabilities (bits 32.. of its 64-bit set) */
#define OA_MARIADB_CLIENT_CACHE_METADATA 0x00000010u

/* Status flags of OK and EOF */
#define OA_MYSQL_SERVER_MORE_RESULTS_EXISTS 0x0008u
#define OA_MYSQL_SERVER_STATUS_CURSOR_EXISTS 0x0040u

/* Kept of a client packet: a command's byte and its first bytes (the query
 * text of COM_QUERY and COM_STMT_PREPARE beyond this is cut). */
#define OA_MYSQL_CLIENT_KEEP 2048
/* Kept of a server packet: the greeting's version and flags, the headers
 * of OK, ERR, EOF and the prepared-statement answer. */
#define OA_MYSQL_SERVER_KEEP 160
/* Commands sent and not answered yet (clients that pipeline: MariaDB's
 * prepare-and-execute in one go). */
#define OA_MYSQL_MAX_INFLIGHT 8

/* How a command's reply ended. */
struct oa_mysql_reply {
    uint8_t command;
    bool traced;           /* what the events' command callback returned */
    bool error;            /* an ERR packet */
    uint16_t error_code;   /* ERR: its error number */
    char sqlstate[6];      /* ERR: its SQLSTATE ("" when the packet has none) */
    uint32_t statement_id; /* COM_STMT_PREPARE answered OK */
};

struct oa_mysql_events {
    /* The greeting: the server's version string (not terminated). */
    void (*greeting)(void *ctx, const char *version, size_t len);
    /* The client's HandshakeResponse41: the database it connects to (NULL
     * when none). */
    void (*handshake)(void *ctx, const char *db, size_t len);
    /* A command: its byte, the kept bytes after it (cut: the packet was
     * longer). Returns whether the caller follows it (then its reply's
     * event says traced). */
    bool (*command)(void *ctx, uint8_t command, const unsigned char *body, size_t len, bool cut);
    /* The reply of the oldest command in flight is complete. */
    void (*reply)(void *ctx, const struct oa_mysql_reply *r);
};

enum oa_mysql_phase {
    OA_MYSQL_GREETING = 0,  /* the server's greeting is expected */
    OA_MYSQL_LOGIN,         /* the client's HandshakeResponse41 or SSLRequest */
    OA_MYSQL_TLS,           /* an SSLRequest went out: TLS bytes follow on the socket */
    OA_MYSQL_AUTH,          /* authentication exchanges until OK or ERR */
    OA_MYSQL_COMMANDS,
    OA_MYSQL_DEAD,          /* lost sync, or something it does not follow */
};

/* One direction's framing. */
struct oa_mysql_reader {
    uint8_t header[4];
    uint8_t header_got;
    uint8_t seq;            /* of the logical packet's first physical one */
    bool more;              /* a 0xFFFFFF-long packet went by: the next one continues it */
    uint32_t len, got;      /* the current physical packet's payload, and how much of it went by */
    uint32_t kept;          /* bytes kept of the logical packet's start */
    uint64_t total;         /* the logical packet's length so far */
    uint64_t offset;        /* bytes read in this direction (at an event: the packet's end) */
};

struct oa_mysql_inflight {
    uint8_t command;
    bool traced;
};

struct oa_mysql_parser {
    uint8_t phase;          /* enum oa_mysql_phase */
    uint8_t reply_state;    /* where the oldest command's reply is */
    bool mariadb_ext;       /* the greeting carried MariaDB's extended capabilities */
    uint32_t server_caps, server_ext;
    uint32_t caps, ext;     /* what both sides have */
    uint32_t left;          /* column or parameter definitions still to come */
    uint16_t prepare_columns;
    uint32_t prepare_id;
    struct oa_mysql_reader in, out;   /* server's packets, client's packets */
    struct oa_mysql_inflight fl[OA_MYSQL_MAX_INFLIGHT];
    uint8_t first, count;
    unsigned char in_keep[OA_MYSQL_SERVER_KEEP];
    unsigned char out_keep[OA_MYSQL_CLIENT_KEEP];
};

void oa_mysql_parser_init(struct oa_mysql_parser *p);

/* Bytes the client sends / receives. False once the parser is dead (then
 * for good). */
bool oa_mysql_parse_client(struct oa_mysql_parser *p, const unsigned char *b, size_t n,
                           const struct oa_mysql_events *ev, void *ctx);
bool oa_mysql_parse_server(struct oa_mysql_parser *p, const unsigned char *b, size_t n,
                           const struct oa_mysql_events *ev, void *ctx);

/* The parser of a TLS session that began after p's SSLRequest: what the
 * greeting said, expecting the client's HandshakeResponse41 next. */
void oa_mysql_parser_after_tls(struct oa_mysql_parser *to, const struct oa_mysql_parser *from);

/* Whether a packet boundary of the client's stream is next (a command's
 * first byte is the next one sent). */
static inline bool oa_mysql_client_at_boundary(const struct oa_mysql_parser *p)
{
    return p->out.header_got == 0 && !p->out.more;
}

/* Whether the first n > 0 bytes a client receives can start a greeting:
 * packet sequence 0, protocol version 10, a printable version string ended
 * by NUL (checked as far as the bytes go). */
bool oa_mysql_could_be_greeting(const unsigned char *b, size_t n);

#endif
