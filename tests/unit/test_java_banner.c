/* The JVM's JAVA_TOOL_OPTIONS banner (src/lifecycle/java_banner.c): armed
 * only when the variable begins with the shim's option, it takes the one
 * call that prints the banner for that value, once: nothing printed when
 * the option is all of it, the program's own part otherwise; every other
 * call is left to the real function. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/java_banner.h"
#include "oa_test.h"

#define OPTION "-javaagent:/usr/lib/otelauto/hints/java/otelauto-hint.jar"
#define FORMAT "Picked up %s: %s\n"

static char out[256];

/* As HotSpot's jio_fprintf: the call's arguments as a va_list. */
static bool take(const char *fmt, ...)
{
    memset(out, 0, sizeof(out));
    FILE *f = fmemopen(out, sizeof(out), "w");
    va_list ap;
    va_start(ap, fmt);
    int printed = -1;
    bool taken = oa_java_banner_take(f, fmt, ap, &printed);
    va_end(ap);
    fclose(f);
    if (taken && printed != (int)strlen(out))
        printf("# printed %d, wrote %zu\n", printed, strlen(out));
    return taken;
}

static bool armed_by(const char *value)
{
    __atomic_store_n(&oa_java_banner_armed, 0, __ATOMIC_RELAXED);
    if (value != NULL)
        setenv("JAVA_TOOL_OPTIONS", value, 1);
    else
        unsetenv("JAVA_TOOL_OPTIONS");
    oa_java_banner_arm(OPTION);
    return oa_java_banner_armed != 0;
}

int main(void)
{
    CHECK(!armed_by(NULL), "no variable: not armed");
    CHECK(!armed_by("-Dx=y"), "the program's own variable alone: not armed");
    CHECK(!armed_by("-Dx=y " OPTION), "our option not first: not armed");
    CHECK(!armed_by(OPTION "x"), "another agent whose name begins like ours: not armed");

    CHECK(armed_by(OPTION), "our option alone: armed");
    CHECK(!take("Picked up %s: %s\n", "_JAVA_OPTIONS", OPTION), "another variable's banner is not ours");
    CHECK(!take(FORMAT, "JAVA_TOOL_OPTIONS", OPTION " -Dx=y"), "another value is not ours");
    CHECK(!take("%s warning: %s\n", "JAVA_TOOL_OPTIONS", OPTION), "another format is not ours");
    CHECK(oa_java_banner_armed, "still armed after the others");
    CHECK(take(FORMAT, "JAVA_TOOL_OPTIONS", OPTION) && out[0] == '\0', "the banner of our option alone: nothing");
    CHECK(!oa_java_banner_armed, "disarmed once taken");
    CHECK(!take(FORMAT, "JAVA_TOOL_OPTIONS", OPTION), "a second one passes (not armed any more)");

    CHECK(armed_by(OPTION " -Dx=y -Xss2m"), "our option before the program's own: armed");
    CHECK(take(FORMAT, "JAVA_TOOL_OPTIONS", OPTION " -Dx=y -Xss2m") &&
              strcmp(out, "Picked up JAVA_TOOL_OPTIONS: -Dx=y -Xss2m\n") == 0,
          "the banner with the program's own part only: \"%s\"", out);

    /* a JVM launcher of another name, started by a traced java */
    __atomic_store_n(&oa_java_banner_armed, 0, __ATOMIC_RELAXED);
    setenv("JAVA_TOOL_OPTIONS", OPTION " -Dx=y", 1);
    oa_java_banner_arm_inherited("/hints/java/otelauto-hint.jar");
    CHECK(oa_java_banner_armed, "inherited: our agent first, armed");
    CHECK(take(FORMAT, "JAVA_TOOL_OPTIONS", OPTION " -Dx=y") && strcmp(out, "Picked up JAVA_TOOL_OPTIONS: -Dx=y\n") == 0,
          "inherited: the program's own part only");
    const char *not_ours[] = {"-javaagent:/opt/other.jar", "-javaagent:/x/hints/java/otelauto-hint.jarx",
                              "-Dx=y " OPTION, "-javaagent:/hints/java/otelauto-hint.ja"};
    for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++) {
        __atomic_store_n(&oa_java_banner_armed, 0, __ATOMIC_RELAXED);
        setenv("JAVA_TOOL_OPTIONS", not_ours[i], 1);
        oa_java_banner_arm_inherited("/hints/java/otelauto-hint.jar");
        CHECK(!oa_java_banner_armed, "inherited: not ours: %s", not_ours[i]);
    }
    TEST_DONE();
}
