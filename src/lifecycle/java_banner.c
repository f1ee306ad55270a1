/* The JVM's JAVA_TOOL_OPTIONS banner without the shim's option (see the
 * header). */
#include <stdlib.h>
#include <string.h>

#include "lifecycle/java_banner.h"

/* HotSpot's format (Arguments::parse_options_environment_variable), JDK 9
 * on: "Picked up %s: %s\n" with the variable's name and value */
#define BANNER_FORMAT "Picked up %s: %s\n"
#define VARIABLE "JAVA_TOOL_OPTIONS"

int oa_java_banner_armed;
static char *value;      /* the variable's value, as the JVM will print it */
static const char *rest; /* the program's own part of it, in value */

void oa_java_banner_arm(const char *option)
{
    const char *v = getenv(VARIABLE);
    size_t n = strlen(option);
    if (v == NULL || strncmp(v, option, n) != 0 || (v[n] != '\0' && v[n] != ' '))
        return;
    /* once in a process (its constructor); again only in the unit tests */
    __atomic_store_n(&oa_java_banner_armed, 0, __ATOMIC_RELEASE);
    free(value);
    value = strdup(v);
    if (value == NULL)
        return;
    rest = value + n + (v[n] == ' ');
    __atomic_store_n(&oa_java_banner_armed, 1, __ATOMIC_RELEASE);
}

void oa_java_banner_arm_inherited(const char *agent_suffix)
{
    static const char agent[] = "-javaagent:";
    const char *v = getenv(VARIABLE);
    if (v == NULL || strncmp(v, agent, sizeof(agent) - 1) != 0)
        return;
    size_t n = strcspn(v, " "), suffix = strlen(agent_suffix);
    if (n < sizeof(agent) - 1 + suffix || memcmp(v + n - suffix, agent_suffix, suffix) != 0)
        return;
    char *option = strndup(v, n);
    if (option == NULL)
        return;
    oa_java_banner_arm(option);
    free(option);
}

bool oa_java_banner_take(FILE *f, const char *fmt, va_list ap, int *printed)
{
    /* the hook's load is relaxed: this one orders the reads of value */
    if (!__atomic_load_n(&oa_java_banner_armed, __ATOMIC_ACQUIRE) || fmt == NULL || strcmp(fmt, BANNER_FORMAT) != 0)
        return false;
    va_list args;
    va_copy(args, ap);
    const char *name = va_arg(args, const char *);
    const char *v = va_arg(args, const char *);
    va_end(args);
    if (name == NULL || v == NULL || strcmp(name, VARIABLE) != 0 || strcmp(v, value) != 0)
        return false;
    /* once: the JVM prints it once */
    if (!__atomic_exchange_n(&oa_java_banner_armed, 0, __ATOMIC_ACQ_REL))
        return false;
    *printed = rest[0] != '\0' ? fprintf(f, BANNER_FORMAT, name, rest) : 0;
    return true;
}
