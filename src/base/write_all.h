/* Writing a whole buffer to a file descriptor with the raw write system
 * call: no lock, no allocation, never through our own write hook. */
#ifndef OA_WRITE_ALL_H
#define OA_WRITE_ALL_H

#include <stddef.h>

/* Writes len bytes at buf to fd, again after EINTR and after a short write;
 * gives up quietly on any other failure (errno then says why). */
void oa_write_all(int fd, const char *buf, size_t len);

#endif
