/* Database client metrics: db.client.operation.duration (stable database
 * conventions), a histogram in seconds, recorded for every operation,
 * sampled or not, with the attributes db.system.name, db.operation.name,
 * db.collection.name, db.response.status_code and error.type. */
#ifndef OA_DB_METRICS_H
#define OA_DB_METRICS_H

#include "metrics/metrics_table.h"
#include "protocols/db/sql_text.h"

/* db.system.name values */
enum oa_db_system {
    OA_DB_POSTGRESQL = 0,
    OA_DB_MYSQL,
    OA_DB_MARIADB,
    OA_DB_REDIS,
    OA_DB_SYSTEMS
};
const char *oa_db_system_name(enum oa_db_system system);
/* The same and its length (the name is static). */
const char *oa_db_system_name_len(enum oa_db_system system, size_t *len);

/* db.response.status_code bound (bytes): SQLSTATE is 5, a Redis error
 * prefix a word; longer ones are cut. */
#define OA_DB_STATUS_MAX 15

/* The buckets of db.client.operation.duration (seconds). */
#define OA_DB_DURATION_BOUNDS 9
extern const double oa_db_duration_bounds[OA_DB_DURATION_BOUNDS];

/* The table's id of the instrument (UINT16_MAX until registered). */
extern uint16_t oa_db_instrument_id;

/* The attribute set of a series (see struct oa_metric_key_head): compared
 * up to the collection's length. Strings are NUL-free and not terminated. */
struct oa_db_metric_key {
    struct oa_metric_key_head head;
    uint8_t system;            /* enum oa_db_system */
    uint8_t operation_len;
    uint8_t status_len;        /* db.response.status_code */
    uint8_t collection_len;
    const char *error_type;    /* a static string, or NULL: see status_is_error */
    uint8_t status_is_error;   /* error.type is the status code */
    uint8_t pad[7];
    char operation[OA_SQL_OPERATION_MAX + 1];
    char status[OA_DB_STATUS_MAX + 1];
    char collection[OA_SQL_COLLECTION_MAX + 1];
};

/* The series a connection's operations of one key (but for the outcome)
 * found last when they succeeded, and that key: a pipeline or loop of one
 * command finds the series again without setting up a key at all (an
 * operation begun on a memo that has a series builds no key; should it
 * fail, it takes the memo's key then). The protocol keeps it (zeroed:
 * nothing kept), passes it with the operations of that key only, and
 * forgets it when the key it stands for changes (an operation begun after
 * does not use the series then). The key stays through a forget: it is
 * written again only when an operation begun after the forget succeeds,
 * and a connection's operations end in the order they began, so an
 * operation begun on the memo finds its own key there to its end.
 * The series is valid for one generation of the table. */
struct oa_db_metric_memo {
    struct oa_series *success;
    unsigned generation;       /* oa_metrics_generation() when found */
    uint32_t epoch;            /* bumped when forgotten */
    struct oa_db_metric_key key; /* success's key (outcome: none) */
};

static inline void oa_db_metric_memo_forget(struct oa_db_metric_memo *m)
{
    m->success = NULL;
    m->epoch++;
}

/* Builds a key (everything before the collection zeroed). */
void oa_db_metric_key_init(struct oa_db_metric_key *k, enum oa_db_system system, const char *operation,
                           size_t operation_len, const char *collection, size_t collection_len);
/* The outcome: status (may be NULL), error.type a static string or NULL;
 * status_is_error: the status is the error.type. */
void oa_db_metric_key_outcome(struct oa_db_metric_key *k, const char *status, size_t status_len,
                              bool status_is_error, const char *error_type);

/* One operation's duration from start to end (unix ns). No-op when metrics
 * are off. */
void oa_db_metrics_record(struct oa_db_metric_key *k, uint64_t start, uint64_t end);
/* The same into series s (what oa_metrics_series found for the key). */
void oa_db_metrics_record_series(struct oa_series *s, uint64_t start, uint64_t end);

/* Registers the instrument (start-up; once is enough). */
void oa_db_metrics_register(void);

#endif
