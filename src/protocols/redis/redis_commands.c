/* Redis command names and db.query.text (see redis_commands.h). */
#include <string.h>

#include "base/short_copy.h"
#include "protocols/redis/redis_commands.h"

/* Redis 7's top-level commands, sorted (strcmp), for a binary search. In
 * rows of fixed room rather than pointers: a table of 253 pointers is 253
 * relocations the dynamic loader makes at every start of every program. */
#define COMMAND_ROOM 24
_Static_assert(COMMAND_ROOM > OA_RESP_NAME_MAX, "a row holds any name the parser keeps, and its NUL");
static const char commands[][COMMAND_ROOM] = {
    "ACL",
    "APPEND",
    "ASKING",
    "AUTH",
    "BGREWRITEAOF",
    "BGSAVE",
    "BITCOUNT",
    "BITFIELD",
    "BITFIELD_RO",
    "BITOP",
    "BITPOS",
    "BLMOVE",
    "BLMPOP",
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BZMPOP",
    "BZPOPMAX",
    "BZPOPMIN",
    "CLIENT",
    "CLUSTER",
    "COMMAND",
    "CONFIG",
    "COPY",
    "DBSIZE",
    "DEBUG",
    "DECR",
    "DECRBY",
    "DEL",
    "DISCARD",
    "DUMP",
    "ECHO",
    "EVAL",
    "EVALSHA",
    "EVALSHA_RO",
    "EVAL_RO",
    "EXEC",
    "EXISTS",
    "EXPIRE",
    "EXPIREAT",
    "EXPIRETIME",
    "FAILOVER",
    "FCALL",
    "FCALL_RO",
    "FLUSHALL",
    "FLUSHDB",
    "FUNCTION",
    "GEOADD",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUS",
    "GEORADIUSBYMEMBER",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GEOSEARCHSTORE",
    "GET",
    "GETBIT",
    "GETDEL",
    "GETEX",
    "GETRANGE",
    "GETSET",
    "HDEL",
    "HELLO",
    "HEXISTS",
    "HEXPIRE",
    "HEXPIREAT",
    "HEXPIRETIME",
    "HGET",
    "HGETALL",
    "HGETDEL",
    "HGETEX",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HMSET",
    "HPERSIST",
    "HPEXPIRE",
    "HPEXPIREAT",
    "HPEXPIRETIME",
    "HPTTL",
    "HRANDFIELD",
    "HSCAN",
    "HSET",
    "HSETEX",
    "HSETNX",
    "HSTRLEN",
    "HTTL",
    "HVALS",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "INFO",
    "KEYS",
    "LASTSAVE",
    "LATENCY",
    "LCS",
    "LINDEX",
    "LINSERT",
    "LLEN",
    "LMOVE",
    "LMPOP",
    "LOLWUT",
    "LPOP",
    "LPOS",
    "LPUSH",
    "LPUSHX",
    "LRANGE",
    "LREM",
    "LSET",
    "LTRIM",
    "MEMORY",
    "MGET",
    "MIGRATE",
    "MODULE",
    "MONITOR",
    "MOVE",
    "MSET",
    "MSETNX",
    "MULTI",
    "OBJECT",
    "PERSIST",
    "PEXPIRE",
    "PEXPIREAT",
    "PEXPIRETIME",
    "PFADD",
    "PFCOUNT",
    "PFDEBUG",
    "PFMERGE",
    "PFSELFTEST",
    "PING",
    "PSETEX",
    "PSUBSCRIBE",
    "PSYNC",
    "PTTL",
    "PUBLISH",
    "PUBSUB",
    "PUNSUBSCRIBE",
    "QUIT",
    "RANDOMKEY",
    "READONLY",
    "READWRITE",
    "RENAME",
    "RENAMENX",
    "REPLCONF",
    "REPLICAOF",
    "RESET",
    "RESTORE",
    "RESTORE-ASKING",
    "ROLE",
    "RPOP",
    "RPOPLPUSH",
    "RPUSH",
    "RPUSHX",
    "SADD",
    "SAVE",
    "SCAN",
    "SCARD",
    "SCRIPT",
    "SDIFF",
    "SDIFFSTORE",
    "SELECT",
    "SET",
    "SETBIT",
    "SETEX",
    "SETNX",
    "SETRANGE",
    "SHUTDOWN",
    "SINTER",
    "SINTERCARD",
    "SINTERSTORE",
    "SISMEMBER",
    "SLAVEOF",
    "SLOWLOG",
    "SMEMBERS",
    "SMISMEMBER",
    "SMOVE",
    "SORT",
    "SORT_RO",
    "SPOP",
    "SPUBLISH",
    "SRANDMEMBER",
    "SREM",
    "SSCAN",
    "SSUBSCRIBE",
    "STRLEN",
    "SUBSCRIBE",
    "SUBSTR",
    "SUNION",
    "SUNIONSTORE",
    "SUNSUBSCRIBE",
    "SWAPDB",
    "SYNC",
    "TIME",
    "TOUCH",
    "TTL",
    "TYPE",
    "UNLINK",
    "UNSUBSCRIBE",
    "UNWATCH",
    "WAIT",
    "WAITAOF",
    "WATCH",
    "XACK",
    "XADD",
    "XAUTOCLAIM",
    "XCLAIM",
    "XDEL",
    "XGROUP",
    "XINFO",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREAD",
    "XREADGROUP",
    "XREVRANGE",
    "XSETID",
    "XTRIM",
    "ZADD",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZDIFFSTORE",
    "ZINCRBY",
    "ZINTER",
    "ZINTERCARD",
    "ZINTERSTORE",
    "ZLEXCOUNT",
    "ZMPOP",
    "ZMSCORE",
    "ZPOPMAX",
    "ZPOPMIN",
    "ZRANDMEMBER",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANGESTORE",
    "ZRANK",
    "ZREM",
    "ZREMRANGEBYLEX",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
    "ZUNION",
    "ZUNIONSTORE",
};

/* The row of upper[0..len) (NUL at upper[len]), or -1: the rows are
 * NUL-padded, so comparing the name with its NUL orders as strcmp does. */
static int command_row(const char *upper, size_t len)
{
    size_t lo = 0, hi = sizeof(commands) / sizeof(commands[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = memcmp(upper, commands[mid], len + 1);
        if (d == 0)
            return (int)mid;
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

bool oa_redis_command_known(const char *upper, size_t len)
{
    if (len == 0 || len > OA_RESP_NAME_MAX || upper[len] != '\0')
        return false;
    return command_row(upper, len) >= 0;
}

bool oa_redis_command_begins(const char *upper, size_t len, bool whole)
{
    if (whole)
        return oa_redis_command_known(upper, len);
    /* the first name not before the prefix starts with it, if any does */
    size_t lo = 0, hi = sizeof(commands) / sizeof(commands[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(commands[mid], upper, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sizeof(commands) / sizeof(commands[0]) && strncmp(commands[lo], upper, len) == 0;
}

/* Commands whose first argument is not a key nor a subcommand but a value
 * (a message, a script, a host). */
static const char first_arg_value[][COMMAND_ROOM] = {
    "ECHO", "EVAL", "EVAL_RO", "MIGRATE", "PING", "REPLICAOF", "SLAVEOF",
};

static bool in(const char (*list)[COMMAND_ROOM], size_t n, const char *upper, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(upper, list[i], len + 1) == 0)
            return true;
    }
    return false;
}

unsigned oa_redis_command_flags(const char *upper, size_t len)
{
    static const char credentials[][COMMAND_ROOM] = {"AUTH", "HELLO"};
    if (!oa_redis_command_known(upper, len))
        return 0;
    unsigned flags = OA_REDIS_KNOWN;
    if (in(first_arg_value, sizeof(first_arg_value) / sizeof(first_arg_value[0]), upper, len))
        flags |= OA_REDIS_ARG1_VALUE;
    if (in(credentials, sizeof(credentials) / sizeof(credentials[0]), upper, len))
        flags |= OA_REDIS_NAME_ONLY;
    return flags;
}

/* The key a text may show: a known command's first argument when it is a
 * key (the arguments of AUTH and HELLO never are), of at most
 * OA_RESP_ARG1_MAX bytes (all of it kept). Whether its bytes can be shown
 * is the text's writer's to check. */
static bool key_candidate(const struct oa_resp_command *cmd, unsigned flags)
{
    if ((flags & (OA_REDIS_KNOWN | OA_REDIS_ARG1_VALUE | OA_REDIS_NAME_ONLY)) != OA_REDIS_KNOWN)
        return false;
    return cmd->arg1_len > 0 && cmd->arg1_len <= OA_RESP_ARG1_MAX;
}

uint32_t oa_redis_query_facts(const struct oa_resp_command *cmd, unsigned flags, const char **key, size_t *key_len)
{
    *key = NULL;
    *key_len = 0;
    if (cmd->name_unusable || (flags & OA_REDIS_NAME_ONLY))
        return 0;
    if (key_candidate(cmd, flags)) {
        *key = cmd->arg1;
        *key_len = cmd->arg1_len;
    }
    return cmd->argc;
}

size_t oa_redis_query_text(const struct oa_resp_command *cmd, char *out, size_t cap)
{
    if (cap < OA_REDIS_TEXT_MAX || cmd->name_unusable) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    const char *key;
    size_t key_len;
    unsigned flags = oa_redis_command_flags(cmd->name, cmd->name_len);
    uint32_t args = oa_redis_query_facts(cmd, flags, &key, &key_len);
    return oa_db_command_text(cmd->name, cmd->name_len, key, key_len, args, out, cap);
}
