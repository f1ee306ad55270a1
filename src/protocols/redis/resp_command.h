/* The commands a Redis client sends, parsed incrementally: a RESP array of
 * bulk strings (`*N\r\n` then N times `$len\r\n<len bytes>\r\n`). Bulk
 * payloads are counted, never buffered: of a command only its name and its
 * first argument's first bytes are kept (what a span shows and what changes
 * the connection's state: SELECT's index, HELLO's version, CLIENT's
 * subcommand). Inline commands (`PING\r\n`) are not RESP: the parser says
 * ERROR and the connection is given up (telnet-style traffic is too
 * ambiguous to recognise safely). Safe to feed a byte at a time. */
#ifndef OA_RESP_COMMAND_H
#define OA_RESP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Command names longer than this are not Redis commands (the longest is 20). */
#define OA_RESP_NAME_MAX 23
/* The first argument's bytes kept (a key longer than this is not shown). */
#define OA_RESP_ARG1_MAX 64

enum oa_resp_command_event {
    OA_RESP_CMD_NEED_MORE,  /* every byte given was consumed */
    OA_RESP_CMD_DONE,       /* a whole command ends at *used */
    OA_RESP_CMD_ERROR,      /* not a RESP command: the stream is dead */
};

struct oa_resp_command {
    char name[OA_RESP_NAME_MAX + 1];  /* upper-cased, NUL-terminated */
    uint8_t name_len;
    bool name_unusable;                /* too long, or a byte no command name has */
    uint32_t argc;                     /* arguments after the name */
    uint32_t arg1_len;                 /* its full length */
    char arg1[OA_RESP_ARG1_MAX];       /* its first min(arg1_len, MAX) bytes */
};

struct oa_resp_command_parser {
    uint8_t state;
    uint8_t digits;         /* of the length being read */
    uint64_t number;        /* the length being read */
    uint32_t elements_left; /* bulk strings still to come in this command */
    uint32_t element;       /* index of the current bulk string */
    uint64_t bulk_left;     /* payload bytes and CRLF still to come */
    uint64_t bulk_len;
    struct oa_resp_command cmd;
};

void oa_resp_command_init(struct oa_resp_command_parser *p);

/* Parses b[0..n): *used bytes consumed. After DONE, p->cmd is the command
 * (until the next call); the next call starts the next command. */
enum oa_resp_command_event oa_resp_command_feed(struct oa_resp_command_parser *p, const char *b, size_t n,
                                                size_t *used);

/* Whether b[0..n), the first bytes a client sends on a connection, can
 * start a RESP command: `*<digits>\r\n$<digits>\r\n<name>\r\n` as far as
 * the bytes go, `known` saying whether the (upper-cased) name, whole or its
 * first len bytes, begins a command. A client may write a command in
 * pieces (a writev's first buffer may hold only its start), so a
 * consistent start is enough here: the protocol checks the first command's
 * name again when it is whole, before any span, and gives up on the first
 * byte that is not RESP. A connection claimed wrongly costs a few parsed
 * bytes and shows nothing. */
bool oa_resp_command_starts(const unsigned char *b, size_t n, bool (*known)(const char *upper, size_t len, bool whole));

#endif
