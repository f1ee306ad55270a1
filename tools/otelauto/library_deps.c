/* Resolution of needed libraries for the doctor's report. It follows the
 * loader's search order closely enough to answer "does this program end up
 * with libssl?"; it does not read ld.so.cache (the directories that cache
 * is built from, ld.so.conf's, are searched instead). */
#include "library_deps.h"

#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEARCH_DIRS_MAX 64

struct search_dirs {
    char *dirs[SEARCH_DIRS_MAX];
    size_t count;
};

static void add_dir(struct search_dirs *sd, const char *dir, size_t len)
{
    if (len == 0 || sd->count >= SEARCH_DIRS_MAX)
        return;
    for (size_t i = 0; i < sd->count; i++) {
        if (strlen(sd->dirs[i]) == len && memcmp(sd->dirs[i], dir, len) == 0)
            return;
    }
    char *copy = strndup(dir, len);
    if (copy != NULL)
        sd->dirs[sd->count++] = copy;
}

/* A colon-separated list, $ORIGIN (or ${ORIGIN}) replaced by origin. */
static void add_dir_list(struct search_dirs *sd, const char *list, const char *origin)
{
    while (list != NULL && *list != '\0') {
        const char *end = strchr(list, ':');
        size_t len = end != NULL ? (size_t)(end - list) : strlen(list);
        char dir[PATH_MAX];
        size_t out = 0;
        for (size_t i = 0; i < len && out + 1 < sizeof dir;) {
            size_t skip = 0;
            if (strncmp(list + i, "$ORIGIN", 7) == 0)
                skip = 7;
            else if (strncmp(list + i, "${ORIGIN}", 9) == 0)
                skip = 9;
            if (skip != 0 && i + skip <= len) {
                size_t olen = strlen(origin);
                if (out + olen + 1 >= sizeof dir)
                    break;
                memcpy(dir + out, origin, olen);
                out += olen;
                i += skip;
            } else {
                dir[out++] = list[i++];
            }
        }
        add_dir(sd, dir, out);
        list = end != NULL ? end + 1 : NULL;
    }
}

static void read_ld_so_conf(struct search_dirs *sd, const char *file, int depth)
{
    if (depth > 4)
        return;
    FILE *f = fopen(file, "re");
    if (f == NULL)
        return;
    char line[PATH_MAX];
    while (fgets(line, sizeof line, f) != NULL) {
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *start = line + strspn(line, " \t");
        size_t len = strcspn(start, " \t\r\n");
        if (len == 0)
            continue;
        if (len == 7 && strncmp(start, "include", 7) == 0) {
            char *pattern = start + 7 + strspn(start + 7, " \t");
            pattern[strcspn(pattern, " \t\r\n")] = '\0';
            glob_t matches;
            if (glob(pattern, 0, NULL, &matches) == 0) {
                for (size_t i = 0; i < matches.gl_pathc; i++)
                    read_ld_so_conf(sd, matches.gl_pathv[i], depth + 1);
            }
            globfree(&matches);
        } else if (start[0] == '/') {
            add_dir(sd, start, len);
        }
    }
    fclose(f);
}

static void free_dirs(struct search_dirs *sd)
{
    for (size_t i = 0; i < sd->count; i++)
        free(sd->dirs[i]);
    sd->count = 0;
}

/* Does path hold an ELF object of the program's class and machine? (A
 * 32-bit copy in a search directory is skipped, as the loader skips it.) */
static bool loadable_by(const char *path, const struct elf_image *program)
{
    struct elf_image lib;
    if (elf_image_open(&lib, path) != ELF_OPEN_OK)
        return false;
    bool ok = lib.elf_class == program->elf_class && lib.machine == program->machine;
    elf_image_close(&lib);
    return ok;
}

static char *resolve(const char *name, const char *object_path, const struct elf_image *object,
                     const struct search_dirs *system_dirs, const struct elf_image *program)
{
    if (strchr(name, '/') != NULL)
        return access(name, R_OK) == 0 ? strdup(name) : NULL;

    struct search_dirs sd = {0};
    const char *runpath = NULL;
    char origin[PATH_MAX];
    snprintf(origin, sizeof origin, "%s", object_path);
    char *slash = strrchr(origin, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        snprintf(origin, sizeof origin, ".");
    elf_needed_libraries(object, NULL, NULL, &runpath);
    add_dir_list(&sd, runpath, origin);
    for (size_t i = 0; i < system_dirs->count; i++)
        add_dir(&sd, system_dirs->dirs[i], strlen(system_dirs->dirs[i]));

    char *found = NULL;
    for (size_t i = 0; i < sd.count && found == NULL; i++) {
        char candidate[PATH_MAX];
        if ((size_t)snprintf(candidate, sizeof candidate, "%s/%s", sd.dirs[i], name) >= sizeof candidate)
            continue;
        if (access(candidate, R_OK) == 0 && loadable_by(candidate, program))
            found = strdup(candidate);
    }
    free_dirs(&sd);
    return found;
}

struct collect_state {
    struct library_deps *deps;
    size_t parent;
};

static void add_needed(const char *name, void *arg)
{
    struct collect_state *st = arg;
    struct library_deps *deps = st->deps;
    if (deps->count >= LIBRARY_DEPS_MAX)
        return;
    for (size_t i = 0; i < deps->count; i++) {
        if (strcmp(deps->deps[i].name, name) == 0)
            return;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return;
    deps->deps[deps->count++] = (struct library_dep){.name = copy, .path = NULL, .needed_by = st->parent};
}

void library_deps_collect(struct library_deps *deps, const char *path, const struct elf_image *image)
{
    memset(deps, 0, sizeof *deps);
    struct search_dirs system_dirs = {0};
    add_dir_list(&system_dirs, getenv("LD_LIBRARY_PATH"), ".");
    read_ld_so_conf(&system_dirs, "/etc/ld.so.conf", 0);
    static const char *const defaults[] = {"/lib64", "/usr/lib64", "/lib", "/usr/lib"};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        add_dir(&system_dirs, defaults[i], strlen(defaults[i]));

    struct collect_state st = {.deps = deps, .parent = LIBRARY_DEP_PROGRAM};
    elf_needed_libraries(image, add_needed, &st, NULL);
    deps->direct = deps->count;

    /* breadth first: each library's own needs are appended as it is resolved */
    for (size_t i = 0; i < deps->count; i++) {
        size_t parent = deps->deps[i].needed_by;
        const char *needer_path = parent == LIBRARY_DEP_PROGRAM ? path : deps->deps[parent].path;
        struct elf_image needer_image;
        const struct elf_image *needer = image;
        bool opened = false;
        if (parent != LIBRARY_DEP_PROGRAM) {
            if (needer_path == NULL || elf_image_open(&needer_image, needer_path) != ELF_OPEN_OK)
                continue;
            needer = &needer_image;
            opened = true;
        }
        deps->deps[i].path = resolve(deps->deps[i].name, needer_path, needer, &system_dirs, image);
        if (opened)
            elf_image_close(&needer_image);

        struct elf_image lib;
        if (deps->deps[i].path != NULL && elf_image_open(&lib, deps->deps[i].path) == ELF_OPEN_OK) {
            st.parent = i;
            elf_needed_libraries(&lib, add_needed, &st, NULL);
            elf_image_close(&lib);
        }
    }
    free_dirs(&system_dirs);
}

void library_deps_free(struct library_deps *deps)
{
    for (size_t i = 0; i < deps->count; i++) {
        free(deps->deps[i].name);
        free(deps->deps[i].path);
    }
    deps->count = 0;
}

const struct library_dep *library_deps_find(const struct library_deps *deps, const char *prefix)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < deps->count; i++) {
        if (strncmp(deps->deps[i].name, prefix, len) == 0)
            return &deps->deps[i];
    }
    return NULL;
}
