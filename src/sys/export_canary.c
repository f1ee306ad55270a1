/* A symbol given default visibility on purpose, standing for one that gets
 * it by mistake: the linker version script made from the list of interposed
 * symbols (Makefile, sys/interposed.def) must keep it local, and the tests
 * check that it is in the object's symbol table but not in its dynamic one
 * (tests/integration/10-startup.bats). Without the script it would be
 * exported, and could capture a symbol of the same name elsewhere in the
 * process. `used`: kept even though nothing refers to it. */
#include "base/common.h"

OA_EXPORT __attribute__((used)) const char oa_export_canary[] = "kept local by the version script";
