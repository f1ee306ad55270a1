/* The subcommands of the otelauto command: each one's entry point (argv[0]
 * is the subcommand's name) and its usage text, printed by `--help`,
 * `otelauto help CMD` and on a usage error. */
#ifndef OTELAUTO_COMMANDS_H
#define OTELAUTO_COMMANDS_H

/* Exit statuses shared by the subcommands. */
enum {
    EXIT_USAGE = 2, /* bad arguments, or an I/O error that prevented an answer */
};

int run_main(int argc, char **argv);
int doctor_main(int argc, char **argv);
int tail_main(int argc, char **argv);

extern const char run_usage[];
extern const char doctor_usage[];
extern const char tail_usage[];

#endif
