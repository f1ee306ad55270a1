/* db.query.text of a command protocol (Redis), where no statement text
 * exists: the command's name, its key when it may be shown, and one "?"
 * for each other argument. The program's thread records those facts; the
 * text is written where the span is built (on the exporter thread for a
 * raw span, or by the crash capture: plain code, no state). */
#ifndef OA_DB_COMMAND_TEXT_H
#define OA_DB_COMMAND_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* "?" shown for at most this many arguments, then " ..." */
#define OA_DB_COMMAND_TEXT_ARGS_MAX 16
/* The room a text needs beyond its name and key: the space before the
 * key, the masked arguments, " ..." and the NUL. */
#define OA_DB_COMMAND_TEXT_EXTRA (1 + 2 * OA_DB_COMMAND_TEXT_ARGS_MAX + 4 + 1)

/* The text of command name (name_len > 0), key (key_len bytes, 0: none;
 * shown only when every byte is printable ASCII other than a space, so the
 * text stays one word per argument) and args arguments in all, the key
 * among them, into out (room cap); its length. 0 (out "") when cap is
 * below name_len + key_len + OA_DB_COMMAND_TEXT_EXTRA or the name empty. */
size_t oa_db_command_text(const char *name, size_t name_len, const char *key, size_t key_len, uint32_t args,
                          char *out, size_t cap);

#endif
