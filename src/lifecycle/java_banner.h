/* The JVM's "Picked up JAVA_TOOL_OPTIONS: ..." line, kept as it would be
 * without the shim (README "Runtime hints").
 *
 * HotSpot prints that line on stderr whenever the variable is set, through
 * jio_vfprintf, which calls libc's __vfprintf_chk from libjvm.so. In a
 * process whose JAVA_TOOL_OPTIONS begins with the shim's -javaagent option,
 * the filter is armed; hooks/stdio.c hands it each __vfprintf_chk call
 * while it is, and it takes the one that prints that line for the value
 * the variable has: nothing is printed when the option is the value's only
 * part (without the shim the variable would not be set), the line with the
 * program's own part otherwise. Then it disarms. Every other process pays
 * one predictable branch per call. */
#ifndef OA_JAVA_BANNER_H
#define OA_JAVA_BANNER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* non-zero while a banner is awaited (read by the hook without a lock) */
extern int oa_java_banner_armed;

/* From the constructor: arms the filter if JAVA_TOOL_OPTIONS now begins
 * with `option` (followed by a space or nothing). */
void oa_java_banner_arm(const char *option);

/* From the constructor of a process that is no java launcher (javac,
 * keytool, any other JVM launcher): arms the filter if JAVA_TOOL_OPTIONS
 * begins with a -javaagent option whose path ends with `agent_suffix` (a
 * traced java process started this one with its variable). */
void oa_java_banner_arm_inherited(const char *agent_suffix);

/* With the filter armed: true if this call prints the banner, which was
 * then printed as it would be without the shim (*printed: the count). */
bool oa_java_banner_take(FILE *f, const char *fmt, va_list ap, int *printed);

#endif
