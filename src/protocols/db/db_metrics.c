/* db.client.operation.duration (db_metrics.h). Collection names come from
 * the program's queries: the table's per-instrument limit and overflow
 * series bound them. */
#include <stddef.h>
#include <string.h>

#include "base/short_copy.h"
#include "protocols/db/db_metrics.h"

const double oa_db_duration_bounds[OA_DB_DURATION_BOUNDS] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

uint16_t oa_db_instrument_id = UINT16_MAX;

_Static_assert(offsetof(struct oa_db_metric_key, collection) % 8 == 0, "the key's head is whole words");
_Static_assert(sizeof(struct oa_db_metric_key) % 8 == 0 && sizeof(struct oa_db_metric_key) <= OA_METRIC_KEY_MAX,
               "the key is whole words, within the table's room");

/* db.system.name values and their lengths (the spans' setters take one) */
#define SYSTEM(s) {s, sizeof s - 1}
static const struct {
    const char *name;
    size_t len;
} systems[OA_DB_SYSTEMS] = {
    [OA_DB_POSTGRESQL] = SYSTEM("postgresql"),
    [OA_DB_MYSQL] = SYSTEM("mysql"),
    [OA_DB_MARIADB] = SYSTEM("mariadb"),
    [OA_DB_REDIS] = SYSTEM("redis"),
};
#undef SYSTEM

const char *oa_db_system_name(enum oa_db_system system)
{
    return (unsigned)system < OA_DB_SYSTEMS ? systems[system].name : "other_sql";
}

const char *oa_db_system_name_len(enum oa_db_system system, size_t *len)
{
    if ((unsigned)system >= OA_DB_SYSTEMS) {
        *len = sizeof "other_sql" - 1;
        return "other_sql";
    }
    *len = systems[system].len;
    return systems[system].name;
}

void oa_db_metric_key_init(struct oa_db_metric_key *k, enum oa_db_system system, const char *operation,
                           size_t operation_len, const char *collection, size_t collection_len)
{
    memset(k, 0, offsetof(struct oa_db_metric_key, collection));
    k->head.instrument = oa_db_instrument_id;
    k->system = (uint8_t)system;
    /* NULL (unknown) is allowed, and memcpy from NULL is not, even of 0 bytes */
    if (operation == NULL || operation_len > OA_SQL_OPERATION_MAX)
        operation_len = 0;
    if (collection == NULL || collection_len > OA_SQL_COLLECTION_MAX)
        collection_len = 0;
    if (operation_len > 0)
        oa_short_copy(k->operation, operation, operation_len);
    k->operation_len = (uint8_t)operation_len;
    if (collection_len > 0)
        oa_short_copy(k->collection, collection, collection_len);
    k->collection_len = (uint8_t)collection_len;
    k->head.size = (uint16_t)(offsetof(struct oa_db_metric_key, collection) + collection_len);
    /* the collection's word is compared whole up to size: clear its rest */
    size_t word_end = (collection_len + 7) & ~(size_t)7;
    memset(k->collection + collection_len, 0, word_end - collection_len);
}

void oa_db_metric_key_outcome(struct oa_db_metric_key *k, const char *status, size_t status_len,
                              bool status_is_error, const char *error_type)
{
    if (status == NULL)
        status_len = 0;
    if (status_len > OA_DB_STATUS_MAX)
        status_len = OA_DB_STATUS_MAX;
    memset(k->status, 0, sizeof k->status);
    if (status_len > 0)
        oa_short_copy(k->status, status, status_len);
    k->status_len = (uint8_t)status_len;
    k->status_is_error = status_is_error && status_len > 0;
    k->error_type = k->status_is_error ? NULL : error_type;
}

void oa_db_metrics_record_series(struct oa_series *s, uint64_t start, uint64_t end)
{
    if (!oa_metrics_enabled())
        return;
    /* the wall clock may have stepped back meanwhile */
    oa_metrics_record_duration(s, end > start ? end - start : 0);
    oa_metrics_reader_start();
}

void oa_db_metrics_record(struct oa_db_metric_key *k, uint64_t start, uint64_t end)
{
    if (!oa_metrics_enabled())
        return;
    oa_db_metrics_record_series(oa_metrics_series(&k->head), start, end);
}

static void key_attributes(struct oa_metric_point *p, const struct oa_metric_key_head *head)
{
    const struct oa_db_metric_key *k = (const struct oa_db_metric_key *)head;
    size_t system_len;
    const char *system = oa_db_system_name_len((enum oa_db_system)k->system, &system_len);
    oa_metric_point_attr_str(p, "db.system.name", system, system_len);
    if (k->operation_len > 0)
        oa_metric_point_attr_str(p, "db.operation.name", k->operation, k->operation_len);
    if (k->collection_len > 0)
        oa_metric_point_attr_str(p, "db.collection.name", k->collection, k->collection_len);
    if (k->status_len > 0)
        oa_metric_point_attr_str(p, "db.response.status_code", k->status, k->status_len);
    if (k->status_is_error)
        oa_metric_point_attr_str(p, "error.type", k->status, k->status_len);
    else if (k->error_type != NULL)
        oa_metric_point_attr_str(p, "error.type", k->error_type, strlen(k->error_type));
}

static const struct oa_instrument_desc instrument = {
    .name = "db.client.operation.duration",
    .description = "Duration of database client operations.",
    .unit = "s",
    .kind = OA_INSTRUMENT_HISTOGRAM,
    .bounds = oa_db_duration_bounds,
    .n_bounds = OA_DB_DURATION_BOUNDS,
    .attributes = key_attributes,
    .key_size = sizeof(struct oa_db_metric_key),
};

void oa_db_metrics_register(void)
{
    static bool registered;
    if (registered)
        return;
    registered = true;
    int id = oa_metrics_instrument_register(&instrument);
    oa_db_instrument_id = id >= 0 ? (uint16_t)id : UINT16_MAX;
}
