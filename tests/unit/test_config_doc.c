/* docs/man/otelauto.7 documents every environment variable the library
 * reads, and names none it does not read, so the page cannot drift from
 * the code.
 *
 * What is read comes from two places, since neither alone sees everything:
 * - oa_config_load run with a getenv that records each name asked for: the
 *   OTLP options are composed at run time (OTEL_EXPORTER_OTLP_<SIGNAL>_<OPTION>)
 *   and appear whole in no source file;
 * - the string literals of src/ and hooks/: each complete "OTEL_..." or
 *   "OTELAUTO_..." name, and each literal passed to a *getenv* function
 *   (TRACEPARENT, read outside the configuration loader).
 * The page's .TH line must also carry OA_VERSION.
 * Run from the repository root (scripts/run-tests.sh does). */
#include <ctype.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "config/config.h"
#include "oa_test.h"

#define MAN_PAGE "docs/man/otelauto.7"
#define MAX_NAMES 256
#define NAME_MAX_LEN 96

static char names[MAX_NAMES][NAME_MAX_LEN];
static char origin[MAX_NAMES][64]; /* who reads it: a source file or the loader */
static int n_names;

static void add_name(const char *name, size_t len, const char *from)
{
    if (len == 0 || len >= NAME_MAX_LEN)
        return;
    for (int i = 0; i < n_names; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return;
    }
    if (n_names == MAX_NAMES)
        return;
    memcpy(names[n_names], name, len);
    names[n_names][len] = '\0';
    snprintf(origin[n_names++], sizeof origin[0], "%s", from);
}

static const char *recording_getenv(const char *name)
{
    add_name(name, strlen(name), "oa_config_load");
    return NULL; /* unset: every fallback variable gets asked for too */
}

static bool name_char(char c)
{
    return isupper((unsigned char)c) || isdigit((unsigned char)c) || c == '_';
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap + 1);
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The literals of one source file: "OTEL_X" / "OTELAUTO_X" whole (not a
 * prefix such as "OTEL_EXPORTER_OTLP_%s"), and any "NAME" right after
 * "getenv...(" . */
static void scan_source(const char *path, const char *text)
{
    for (const char *p = text; (p = strchr(p, '"')) != NULL; p++) {
        const char *start = p + 1, *end = start;
        while (name_char(*end))
            end++;
        if (*end != '"' || end == start || end[-1] == '_')
            continue;
        bool prefixed = starts_with(start, "OTEL_") || starts_with(start, "OTELAUTO_");
        bool getenv_arg = false;
        const char *q = p;
        while (q > text && (q[-1] == ' ' || q[-1] == '('))
            q--;
        if (q < p && memchr(q, '(', (size_t)(p - q)) != NULL) {
            const char *w = q;
            while (w > text && (isalnum((unsigned char)w[-1]) || w[-1] == '_'))
                w--;
            getenv_arg = memmem(w, (size_t)(q - w), "getenv", 6) != NULL;
        }
        if (prefixed || getenv_arg)
            add_name(start, (size_t)(end - start), path);
        p = end;
    }
}

/* NAME appears in the page as a whole word. */
static bool page_names(const char *page, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = page; (p = strstr(p, name)) != NULL; p++) {
        if ((p == page || !name_char(p[-1])) && !name_char(p[len]))
            return true;
    }
    return false;
}

static bool is_read(const char *name, size_t len)
{
    for (int i = 0; i < n_names; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return true;
    }
    return false;
}

int main(void)
{
    static struct oa_config cfg;
    oa_config_load(&cfg, recording_getenv);
    int from_loader = n_names;
    CHECK(from_loader >= 40, "oa_config_load asked for %d variables", from_loader);

    static const char *const patterns[] = {"src/*.c", "src/*/*.c", "src/*/*/*.c", "hooks/*.c"};
    int files = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        glob_t g;
        if (glob(patterns[i], 0, NULL, &g) != 0)
            continue;
        for (size_t j = 0; j < g.gl_pathc; j++) {
            char *text = read_file(g.gl_pathv[j]);
            if (text == NULL)
                continue;
            files++;
            scan_source(g.gl_pathv[j], text);
            free(text);
        }
        globfree(&g);
    }
    CHECK(files > 10, "read %d source files (run from the repository root)", files);
    CHECK(n_names < MAX_NAMES, "fewer than %d names", MAX_NAMES);
    CHECK(is_read("TRACEPARENT", 11) && is_read("OTEL_SDK_DISABLED", 17) &&
              is_read("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", 37),
          "the scan finds a getenv literal, a plain name and a composed one");

    char *page = read_file(MAN_PAGE);
    CHECK(page != NULL, "%s is readable (run from the repository root)", MAN_PAGE);
    if (page == NULL)
        TEST_DONE();

    /* the page's footer names the version; a release must update it */
    CHECK(strstr(page, "\"otelauto " OA_VERSION "\"") != NULL, "%s is the page of version %s (.TH)",
          MAN_PAGE, OA_VERSION);

    for (int i = 0; i < n_names; i++)
        CHECK(page_names(page, names[i]), "%s (read by %s) is in %s", names[i], origin[i], MAN_PAGE);

    /* the other way: every OTEL_/OTELAUTO_ name of the page is read (a
     * trailing '_' is a prefix such as OTEL_EXPORTER_OTLP_\fIoption\fR) */
    int stale = 0;
    for (const char *p = page; *p; p++) {
        if ((p > page && name_char(p[-1])) || (!starts_with(p, "OTEL_") && !starts_with(p, "OTELAUTO_")))
            continue;
        const char *end = p;
        while (name_char(*end))
            end++;
        if (end[-1] != '_' && !is_read(p, (size_t)(end - p))) {
            printf("# %s names %.*s, which the library does not read\n", MAN_PAGE, (int)(end - p), p);
            stale++;
        }
        p = end - 1;
    }
    CHECK(stale == 0, "every OTEL_/OTELAUTO_ variable named in %s is read (%d not)", MAN_PAGE, stale);
    free(page);
    TEST_DONE();
}
