/* Read-only look at an ELF file: what the dynamic loader and the doctor
 * need to know (interpreter, dynamic section, needed libraries, sections,
 * symbols). 64-bit little-endian files are examined in full; for others
 * only the class, byte order and machine are known. Every offset read from
 * the file is bounds-checked: the file may be anything. */
#ifndef OTELAUTO_ELF_INSPECT_H
#define OTELAUTO_ELF_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_image {
    const unsigned char *data; /* the whole file, mapped */
    size_t size;
    bool examinable;           /* 64-bit little-endian: the fields below are valid */
    int elf_class;             /* ELFCLASS32 / ELFCLASS64 */
    int byte_order;            /* ELFDATA2LSB / ELFDATA2MSB */
    unsigned machine;          /* e_machine */
    unsigned type;             /* e_type */
};

enum elf_open_result {
    ELF_OPEN_OK = 0,
    ELF_OPEN_NOT_ELF = 1,  /* readable, but not an ELF file (errno unchanged) */
    ELF_OPEN_IO_ERROR = -1 /* errno says why */
};

enum elf_open_result elf_image_open(struct elf_image *image, const char *path);
void elf_image_close(struct elf_image *image);

/* PT_INTERP's path, or NULL (a statically linked program). */
const char *elf_interpreter(const struct elf_image *image);
bool elf_has_dynamic_segment(const struct elf_image *image);

/* Calls visit(name, arg) (unless visit is NULL) for each DT_NEEDED entry, in
 * order; DT_RUNPATH (or DT_RPATH) goes to *runpath when runpath is not NULL
 * (NULL if none). */
void elf_needed_libraries(const struct elf_image *image, void (*visit)(const char *name, void *arg), void *arg,
                          const char **runpath);

bool elf_has_section(const struct elf_image *image, const char *name);

/* Is name a defined symbol (not merely imported) of .dynsym or .symtab?
 * Its st_value goes to *value when value is not NULL. */
bool elf_defines_symbol(const struct elf_image *image, const char *name, uint64_t *value);

/* Does the file contain these bytes anywhere? */
bool elf_contains_bytes(const struct elf_image *image, const void *bytes, size_t len);

/* The p_vaddr of the first PT_LOAD segment (0 for an ordinary shared object). */
uint64_t elf_first_load_vaddr(const struct elf_image *image);

/* A short name for e_machine ("x86-64", "AArch64", ...). */
const char *elf_machine_name(unsigned machine);

#endif
