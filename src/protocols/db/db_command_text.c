/* db.query.text of a command protocol: see db_command_text.h. */
#include <stdbool.h>
#include <string.h>

#include "base/short_copy.h"
#include "protocols/db/db_command_text.h"

/* Whether every byte of s[0..n) is in 0x21..0x7e, eight at a time (a key
 * is checked for every command a program sends). */
static bool all_graphic(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* a byte with its high bit set, or below 0x21 (w - 0x21 borrows
         * into its high bit), or 0x7f (+ 1 carries into it): no byte above
         * 0x7f is left by the first test, so no carry crosses bytes */
        if ((w & highs) != 0 || ((w - 0x21 * ones) & highs) != 0 || (((w + ones) & highs) != 0))
            return false;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

size_t oa_db_command_text(const char *name, size_t name_len, const char *key, size_t key_len, uint32_t args,
                          char *out, size_t cap)
{
    if (key == NULL)
        key_len = 0;
    if (name == NULL || name_len == 0 || cap < OA_DB_COMMAND_TEXT_EXTRA ||
        cap - OA_DB_COMMAND_TEXT_EXTRA < name_len || cap - OA_DB_COMMAND_TEXT_EXTRA - name_len < key_len) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    size_t pos = name_len;
    oa_short_copy(out, name, name_len);
    if (args > 0) {
        uint32_t masked = args;
        if (key_len > 0 && all_graphic(key, key_len)) {
            out[pos++] = ' ';
            oa_short_copy(out + pos, key, key_len);
            pos += key_len;
            masked--;
        }
        for (uint32_t i = 0; i < masked; i++) {
            if (i == OA_DB_COMMAND_TEXT_ARGS_MAX) {
                memcpy(out + pos, " ...", 4);
                pos += 4;
                break;
            }
            out[pos++] = ' ';
            out[pos++] = '?';
        }
    }
    out[pos] = '\0';
    return pos;
}
