/* otelauto: the command-line front end of the shim. Dispatches to one
 * subcommand per file (run.c, doctor.c, tail.c); version and help live
 * here because they only describe the others. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "base/common.h"

struct subcommand {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
    const char *usage;
};

static const char version_usage[] = "usage: otelauto version\n"
                                    "Prints the version of the otelauto command.\n";
static const char help_usage[] = "usage: otelauto help [COMMAND]\n"
                                 "Describes the otelauto command, or one of its commands.\n";

static int version_main(int argc, char **argv);
static int help_main(int argc, char **argv);

static const struct subcommand subcommands[] = {
    {"run", "run a program with the shim preloaded", run_main, run_usage},
    {"doctor", "tell whether a program or a running process can be traced", doctor_main, doctor_usage},
    {"tail", "receive OTLP/HTTP spans locally and print each trace as a tree", tail_main, tail_usage},
    {"version", "print the version", version_main, version_usage},
    {"help", "describe a command", help_main, help_usage},
};
#define SUBCOMMAND_COUNT (sizeof subcommands / sizeof subcommands[0])

static const struct subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++) {
        if (strcmp(subcommands[i].name, name) == 0)
            return &subcommands[i];
    }
    return NULL;
}

static void print_overview(FILE *out)
{
    fputs("usage: otelauto COMMAND [ARGS...]\n"
          "Zero-code OpenTelemetry tracing for unmodified programs (LD_PRELOAD).\n\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
        fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n`otelauto help COMMAND` or `otelauto COMMAND --help` describes one command.\n", out);
}

static int version_main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(version_usage, stdout);
        return 0;
    }
    printf("otelauto %s\n", OA_VERSION);
    return 0;
}

static int help_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_overview(stdout);
        return 0;
    }
    const struct subcommand *cmd = find_subcommand(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "otelauto help: unknown command '%s'\n\n", argv[1]);
        print_overview(stderr);
        return EXIT_USAGE;
    }
    fputs(cmd->usage, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_overview(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    const struct subcommand *cmd = find_subcommand(name);
    if (cmd == NULL) {
        fprintf(stderr, "otelauto: unknown command '%s'\n\n", name);
        print_overview(stderr);
        return EXIT_USAGE;
    }
    return cmd->main(argc - 1, argv + 1);
}
