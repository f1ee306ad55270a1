/* HPACK's static table (RFC 7541 Appendix A): indices 1 to 61. */
#ifndef OA_HPACK_STATIC_TABLE_H
#define OA_HPACK_STATIC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define OA_HPACK_STATIC_ENTRIES 61

struct oa_hpack_static_entry {
    char name[28];  /* the longest: access-control-allow-origin */
    char value[14]; /* the longest: gzip, deflate */
    uint8_t name_len;
    uint8_t value_len;
};

extern const struct oa_hpack_static_entry oa_hpack_static_table[OA_HPACK_STATIC_ENTRIES];

#endif
