/* What Redis spans show of a command: whether a name is a Redis command
 * (detection, db.operation.name), and db.query.text. */
#ifndef OA_REDIS_COMMANDS_H
#define OA_REDIS_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "protocols/db/db_command_text.h"
#include "protocols/redis/resp_command.h"

/* Whether upper[0..len) (upper-case) names a command of Redis 7 (the
 * top-level ones; modules' commands are not known). */
bool oa_redis_command_known(const char *upper, size_t len);
/* The same for detection: whole, or upper[0..len) begins a known name. */
bool oa_redis_command_begins(const char *upper, size_t len, bool whole);

/* What a command's spans must know of its name, looked up once (a
 * pipeline repeats its command: the protocol keeps the last lookup). */
enum {
    OA_REDIS_KNOWN = 1,       /* a command of Redis 7 */
    OA_REDIS_ARG1_VALUE = 2,  /* its first argument is a value, not a key: a `?` */
    OA_REDIS_NAME_ONLY = 4,   /* its arguments carry credentials: never shown */
};
/* The flags of upper[0..len) (NUL at upper[len]). */
unsigned oa_redis_command_flags(const char *upper, size_t len);

/* Room db.query.text needs: at most OA_DB_COMMAND_TEXT_ARGS_MAX `?` stand
 * for a command's arguments, more are one " ..." (MSET of a thousand keys
 * is not a thousand `?`). */
#define OA_REDIS_TEXT_MAX (OA_RESP_NAME_MAX + OA_RESP_ARG1_MAX + OA_DB_COMMAND_TEXT_EXTRA)

/* db.query.text of cmd into out (NUL-terminated; cap at least
 * OA_REDIS_TEXT_MAX): the command's name, its first argument (the key of
 * most commands) when it is printable ASCII of at most OA_RESP_ARG1_MAX
 * bytes, and a `?` for each later argument: `SET user:1 ?`. Never a value.
 * The first argument is a `?` too when it is not a key (ECHO's message,
 * EVAL's script, a host name, a command not known); AUTH and HELLO, whose
 * arguments hold credentials, are their name alone. Returns its length. */
size_t oa_redis_query_text(const struct oa_resp_command *cmd, char *out, size_t cap);

/* The same in two steps, the second where the span is built (on the
 * exporter thread for a raw span). What the program's thread records of
 * cmd, its name's flags known (oa_redis_command_flags): the count of
 * arguments the text stands for (returned; 0 for a command whose
 * arguments hold credentials), and the first argument's bytes when the
 * text may show them, the key (*key, *key_len; NULL, 0 when it may not: no
 * other byte of the command is kept). The text is oa_db_command_text of
 * the name and those. */
uint32_t oa_redis_query_facts(const struct oa_resp_command *cmd, unsigned flags, const char **key, size_t *key_len);

#endif
