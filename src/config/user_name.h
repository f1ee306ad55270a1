/* process.owner: the name of a user id, from /etc/passwd read directly.
 * Not getpwuid: that goes through NSS, which may load modules and talk to a
 * directory server over the network, from inside the program's first
 * connection. A user only a directory knows is given as its number. */
#ifndef OA_USER_NAME_H
#define OA_USER_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One /etc/passwd line (name:password:uid:...): its name, when its uid is uid. */
bool oa_user_name_from_passwd_line(const char *line, size_t len, uid_t uid, char *out, size_t cap);

/* The name of uid from /etc/passwd, else its decimal number. */
void oa_user_name(uid_t uid, char *out, size_t cap);

#endif
