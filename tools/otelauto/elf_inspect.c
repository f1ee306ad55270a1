/* ELF reading for the doctor: the file is mapped read-only and every header,
 * table and string is checked against the file's size before it is used. */
#include "elf_inspect.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum elf_open_result elf_image_open(struct elf_image *image, const char *path)
{
    memset(image, 0, sizeof *image);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ELF_OPEN_IO_ERROR;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return ELF_OPEN_IO_ERROR;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return ELF_OPEN_IO_ERROR;
    }
    if ((size_t)st.st_size < EI_NIDENT) {
        close(fd);
        return ELF_OPEN_NOT_ELF;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (map == MAP_FAILED) {
        errno = err;
        return ELF_OPEN_IO_ERROR;
    }
    image->data = map;
    image->size = (size_t)st.st_size;
    if (memcmp(image->data, ELFMAG, SELFMAG) != 0) {
        elf_image_close(image);
        return ELF_OPEN_NOT_ELF;
    }
    image->elf_class = image->data[EI_CLASS];
    image->byte_order = image->data[EI_DATA];
    if (image->size >= sizeof(Elf32_Ehdr)) {
        /* e_type and e_machine sit at the same offsets in both classes */
        const unsigned char *h = image->data;
        bool little = image->byte_order == ELFDATA2LSB;
        image->type = little ? (unsigned)(h[16] | h[17] << 8) : (unsigned)(h[16] << 8 | h[17]);
        image->machine = little ? (unsigned)(h[18] | h[19] << 8) : (unsigned)(h[18] << 8 | h[19]);
    }
    image->examinable = image->elf_class == ELFCLASS64 && image->byte_order == ELFDATA2LSB &&
                        image->size >= sizeof(Elf64_Ehdr);
    return ELF_OPEN_OK;
}

void elf_image_close(struct elf_image *image)
{
    if (image->data != NULL)
        munmap((void *)image->data, image->size);
    memset(image, 0, sizeof *image);
}

/* ------------------------------------------------------------ bounds */

static bool range_ok(const struct elf_image *image, uint64_t offset, uint64_t len)
{
    return offset <= image->size && len <= image->size - offset;
}

/* Tables of 64-bit fields are read in place: a crafted file could place
 * them at an odd offset, which would be a misaligned access. */
static bool table_ok(const struct elf_image *image, uint64_t offset, uint64_t len)
{
    return offset % 8 == 0 && range_ok(image, offset, len);
}

/* A NUL-terminated string at offset inside [table, table + table_size), or NULL. */
static const char *string_at(const struct elf_image *image, uint64_t table, uint64_t table_size, uint64_t offset)
{
    if (!range_ok(image, table, table_size) || offset >= table_size)
        return NULL;
    const char *s = (const char *)image->data + table + offset;
    if (memchr(s, '\0', table_size - offset) == NULL)
        return NULL;
    return s;
}

static const Elf64_Ehdr *header(const struct elf_image *image)
{
    return image->examinable ? (const Elf64_Ehdr *)image->data : NULL;
}

static const Elf64_Phdr *program_header(const struct elf_image *image, size_t i)
{
    const Elf64_Ehdr *eh = header(image);
    if (eh == NULL || i >= eh->e_phnum || eh->e_phentsize != sizeof(Elf64_Phdr))
        return NULL;
    uint64_t off = eh->e_phoff + (uint64_t)i * sizeof(Elf64_Phdr);
    if (!table_ok(image, off, sizeof(Elf64_Phdr)))
        return NULL;
    return (const Elf64_Phdr *)(image->data + off);
}

static size_t program_header_count(const struct elf_image *image)
{
    const Elf64_Ehdr *eh = header(image);
    return eh != NULL ? eh->e_phnum : 0;
}

static const Elf64_Shdr *section_header(const struct elf_image *image, size_t i)
{
    const Elf64_Ehdr *eh = header(image);
    if (eh == NULL || i >= eh->e_shnum || eh->e_shentsize != sizeof(Elf64_Shdr))
        return NULL;
    uint64_t off = eh->e_shoff + (uint64_t)i * sizeof(Elf64_Shdr);
    if (!table_ok(image, off, sizeof(Elf64_Shdr)))
        return NULL;
    return (const Elf64_Shdr *)(image->data + off);
}

static size_t section_count(const struct elf_image *image)
{
    const Elf64_Ehdr *eh = header(image);
    return eh != NULL && eh->e_shoff != 0 ? eh->e_shnum : 0;
}

/* ------------------------------------------------------------ segments */

static const Elf64_Phdr *find_segment(const struct elf_image *image, uint32_t type)
{
    for (size_t i = 0; i < program_header_count(image); i++) {
        const Elf64_Phdr *ph = program_header(image, i);
        if (ph != NULL && ph->p_type == type)
            return ph;
    }
    return NULL;
}

const char *elf_interpreter(const struct elf_image *image)
{
    const Elf64_Phdr *ph = find_segment(image, PT_INTERP);
    if (ph == NULL || ph->p_filesz == 0)
        return NULL;
    return string_at(image, ph->p_offset, ph->p_filesz, 0);
}

bool elf_has_dynamic_segment(const struct elf_image *image)
{
    return find_segment(image, PT_DYNAMIC) != NULL;
}

uint64_t elf_first_load_vaddr(const struct elf_image *image)
{
    const Elf64_Phdr *ph = find_segment(image, PT_LOAD);
    return ph != NULL ? ph->p_vaddr : 0;
}

/* The file offset of a virtual address, through the PT_LOAD segment that
 * holds it (DT_STRTAB is an address, not an offset). */
static bool vaddr_to_offset(const struct elf_image *image, uint64_t vaddr, uint64_t *offset)
{
    for (size_t i = 0; i < program_header_count(image); i++) {
        const Elf64_Phdr *ph = program_header(image, i);
        if (ph != NULL && ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr < ph->p_filesz) {
            *offset = ph->p_offset + (vaddr - ph->p_vaddr);
            return true;
        }
    }
    return false;
}

void elf_needed_libraries(const struct elf_image *image, void (*visit)(const char *name, void *arg), void *arg,
                          const char **runpath)
{
    if (runpath != NULL)
        *runpath = NULL;
    const Elf64_Phdr *dyn = find_segment(image, PT_DYNAMIC);
    if (dyn == NULL || !table_ok(image, dyn->p_offset, dyn->p_filesz))
        return;
    const Elf64_Dyn *entries = (const Elf64_Dyn *)(image->data + dyn->p_offset);
    size_t count = dyn->p_filesz / sizeof(Elf64_Dyn);

    uint64_t strtab_addr = 0, strtab_size = 0, runpath_off = 0, rpath_off = 0;
    bool has_strtab = false, has_runpath = false, has_rpath = false;
    for (size_t i = 0; i < count && entries[i].d_tag != DT_NULL; i++) {
        switch (entries[i].d_tag) {
        case DT_STRTAB:
            strtab_addr = entries[i].d_un.d_ptr;
            has_strtab = true;
            break;
        case DT_STRSZ:
            strtab_size = entries[i].d_un.d_val;
            break;
        case DT_RUNPATH:
            runpath_off = entries[i].d_un.d_val;
            has_runpath = true;
            break;
        case DT_RPATH:
            rpath_off = entries[i].d_un.d_val;
            has_rpath = true;
            break;
        }
    }
    uint64_t strtab;
    if (!has_strtab || !vaddr_to_offset(image, strtab_addr, &strtab))
        return;
    if (runpath != NULL) {
        /* DT_RUNPATH wins over DT_RPATH, as in the loader */
        if (has_runpath)
            *runpath = string_at(image, strtab, strtab_size, runpath_off);
        else if (has_rpath)
            *runpath = string_at(image, strtab, strtab_size, rpath_off);
    }
    for (size_t i = 0; i < count && entries[i].d_tag != DT_NULL; i++) {
        if (entries[i].d_tag != DT_NEEDED)
            continue;
        const char *name = string_at(image, strtab, strtab_size, entries[i].d_un.d_val);
        if (name != NULL && visit != NULL)
            visit(name, arg);
    }
}

/* ------------------------------------------------------------ sections */

static const char *section_name(const struct elf_image *image, const Elf64_Shdr *sh)
{
    const Elf64_Ehdr *eh = header(image);
    const Elf64_Shdr *names = section_header(image, eh->e_shstrndx);
    if (names == NULL)
        return NULL;
    return string_at(image, names->sh_offset, names->sh_size, sh->sh_name);
}

bool elf_has_section(const struct elf_image *image, const char *name)
{
    for (size_t i = 0; i < section_count(image); i++) {
        const Elf64_Shdr *sh = section_header(image, i);
        const char *sname = sh != NULL ? section_name(image, sh) : NULL;
        if (sname != NULL && strcmp(sname, name) == 0)
            return true;
    }
    return false;
}

static bool table_defines_symbol(const struct elf_image *image, const Elf64_Shdr *table, const char *name,
                                 uint64_t *value)
{
    const Elf64_Shdr *strings = section_header(image, table->sh_link);
    if (strings == NULL || table->sh_entsize != sizeof(Elf64_Sym) ||
        !table_ok(image, table->sh_offset, table->sh_size))
        return false;
    const Elf64_Sym *syms = (const Elf64_Sym *)(image->data + table->sh_offset);
    size_t count = table->sh_size / sizeof(Elf64_Sym);
    for (size_t i = 1; i < count; i++) {
        if (syms[i].st_shndx == SHN_UNDEF)
            continue;
        const char *sname = string_at(image, strings->sh_offset, strings->sh_size, syms[i].st_name);
        if (sname != NULL && strcmp(sname, name) == 0) {
            if (value != NULL)
                *value = syms[i].st_value;
            return true;
        }
    }
    return false;
}

bool elf_defines_symbol(const struct elf_image *image, const char *name, uint64_t *value)
{
    for (size_t i = 0; i < section_count(image); i++) {
        const Elf64_Shdr *sh = section_header(image, i);
        if (sh != NULL && (sh->sh_type == SHT_SYMTAB || sh->sh_type == SHT_DYNSYM) &&
            table_defines_symbol(image, sh, name, value))
            return true;
    }
    return false;
}

bool elf_contains_bytes(const struct elf_image *image, const void *bytes, size_t len)
{
    return memmem(image->data, image->size, bytes, len) != NULL;
}

const char *elf_machine_name(unsigned machine)
{
    switch (machine) {
    case EM_X86_64:
        return "x86-64";
    case EM_386:
        return "i386";
    case EM_AARCH64:
        return "AArch64";
    case EM_ARM:
        return "ARM";
    case EM_RISCV:
        return "RISC-V";
    case EM_PPC64:
        return "PowerPC64";
    case EM_S390:
        return "s390";
    default:
        return "another architecture";
    }
}
