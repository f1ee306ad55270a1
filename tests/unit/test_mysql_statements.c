/* The prepared statements of a MySQL connection
 * (src/protocols/mysql/mysql_statements.c): ids given in the order the
 * prepares were sent, refusals, MariaDB's "last prepared" id, closing, id
 * reuse, and the bound (the least recently used forgotten first). */
#include <stdio.h>
#include <string.h>

#include "oa_test.h"
#include "protocols/mysql/mysql_statements.h"

static struct oa_mysql_statements m;

static void prepare(const char *operation)
{
    struct oa_mysql_statement *s = oa_mysql_statements_prepare(&m);
    snprintf(s->summary.operation, sizeof(s->summary.operation), "%s", operation);
}

static const char *op_of(uint32_t id)
{
    struct oa_mysql_statement *s = oa_mysql_statements_find(&m, id);
    return s != NULL ? s->summary.operation : "(none)";
}

int main(void)
{
    oa_mysql_statements_init(&m);
    /* two prepares in flight: answers name them in the order they went out */
    prepare("SELECT");
    prepare("INSERT");
    CHECK(strcmp(op_of(OA_MYSQL_LAST_PREPARED), "INSERT") == 0, "the last prepared, before its answer");
    oa_mysql_statements_answered(&m, true, 1);
    oa_mysql_statements_answered(&m, true, 2);
    CHECK(strcmp(op_of(1), "SELECT") == 0 && strcmp(op_of(2), "INSERT") == 0, "ids in the order of the prepares");
    CHECK(strcmp(op_of(3), "(none)") == 0, "an id never answered is unknown");

    /* a refused prepare is forgotten; the next answer names the next one */
    prepare("BAD");
    prepare("UPDATE");
    oa_mysql_statements_answered(&m, false, 0);
    oa_mysql_statements_answered(&m, true, 3);
    CHECK(strcmp(op_of(3), "UPDATE") == 0, "a refusal takes the oldest pending prepare");

    oa_mysql_statements_close(&m, 1);
    CHECK(strcmp(op_of(1), "(none)") == 0, "closed");
    /* the server reuses a closed id */
    prepare("DELETE");
    oa_mysql_statements_answered(&m, true, 2);
    CHECK(strcmp(op_of(2), "DELETE") == 0, "a reused id names the new statement");

    /* the bound: the least recently used goes first */
    oa_mysql_statements_init(&m);
    for (uint32_t id = 1; id <= OA_MYSQL_STATEMENTS; id++) {
        char op[16];
        snprintf(op, sizeof(op), "OP%u", id);
        prepare(op);
        oa_mysql_statements_answered(&m, true, id);
    }
    CHECK(strcmp(op_of(1), "OP1") == 0, "all %d kept", OA_MYSQL_STATEMENTS); /* 1 is now the most recent */
    prepare("NEW");
    oa_mysql_statements_answered(&m, true, 100);
    CHECK(strcmp(op_of(2), "(none)") == 0, "the least recently used was forgotten");
    CHECK(strcmp(op_of(1), "OP1") == 0 && strcmp(op_of(100), "NEW") == 0, "the others stay");
    TEST_DONE();
}
