/* Choosing a span exporter by name (OTEL_TRACES_EXPORTER): each name gives
 * its exporter, always the same one; NULL and unknown names give "none";
 * every name the configuration accepts has an exporter. */
#include <string.h>

#include "config/config.h"
#include "export/span_exporters.h"
#include "oa_test.h"

int main(void)
{
    static const char *const names[] = {"otlp", "console", "none", "zipkin"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct oa_span_exporter *e = oa_span_exporter_for(names[i]);
        CHECK(e != NULL && e->name != NULL && strcmp(e->name, names[i]) == 0 && e->export != NULL,
              "\"%s\" gives the exporter of that name", names[i]);
        CHECK(oa_span_exporter_for(names[i]) == e, "\"%s\" gives the same exporter again", names[i]);
    }
    CHECK(oa_span_exporter_for("jaeger") == oa_none_span_exporter(), "an unknown name gives none");
    CHECK(oa_span_exporter_for("OTLP") == oa_none_span_exporter(), "names are exact (lower case)");
    CHECK(oa_span_exporter_for("") == oa_none_span_exporter(), "an empty name gives none");
    CHECK(oa_span_exporter_for(NULL) == oa_none_span_exporter(), "NULL gives none");
    CHECK(strcmp(oa_none_span_exporter()->name, "none") == 0, "none is called none");

    long retry_after_ms = -1;
    CHECK(oa_none_span_exporter()->export(oa_none_span_exporter()->self, NULL, 3, &retry_after_ms) ==
              OA_EXPORT_OK,
          "none accepts everything");

    /* what the library looks up: the configuration's name for each value */
    static const enum oa_traces_exporter values[] = {
        OA_TRACES_EXPORTER_OTLP, OA_TRACES_EXPORTER_CONSOLE, OA_TRACES_EXPORTER_NONE,
        OA_TRACES_EXPORTER_ZIPKIN};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *name = oa_config_traces_exporter_name(values[i]);
        const struct oa_span_exporter *e = oa_span_exporter_for(name);
        CHECK(name != NULL && strcmp(e->name, name) == 0,
              "OTEL_TRACES_EXPORTER=%s has its exporter", name ? name : "(null)");
    }
    TEST_DONE();
}
