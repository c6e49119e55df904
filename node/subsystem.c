/*
 * The registry of subsystems (subsystem.h): the migration list assembled from the subsystems'
 * entries and checked, and the request path's hooks gathered into one structure.
 */
#include "subsystem.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_MIGRATIONS 256

static struct {
    const char *files[MAX_MIGRATIONS];
    int nmigrations;
    struct subsystem hooks; /* only the request path's hooks are set */
    char err[256];          /* empty when sound */
} reg;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

int registry_migrations(const struct subsystem *const *list, const char **files, int cap, char *err,
                        size_t errlen)
{
    int latest = 0;
    for (int i = 0; i < cap; i++)
        files[i] = NULL;
    for (int s = 0; list[s] != NULL; s++)
        for (const struct migration *m = list[s]->migrations; m && m->file; m++) {
            if (m->version < 1 || m->version > cap) {
                snprintf(err, errlen, "migration %d (%s): versions run from 1 to %d", m->version,
                         m->file, cap);
                return -1;
            }
            if (files[m->version - 1] != NULL) {
                snprintf(err, errlen, "migration %d: both %s and %s", m->version,
                         files[m->version - 1], m->file);
                return -1;
            }
            files[m->version - 1] = m->file;
            if (m->version > latest)
                latest = m->version;
        }
    for (int v = 1; v <= latest; v++)
        if (files[v - 1] == NULL) {
            snprintf(err, errlen, "migration %d is missing (the latest is %d)", v, latest);
            return -1;
        }
    return latest;
}

/* Copies the hook at `offset` of each subsystem into reg.hooks; notes a second provider. */
static void gather_hook(size_t offset, size_t size, const char *what)
{
    const struct subsystem *by = NULL;
    for (int s = 0; subsystems[s] != NULL; s++) {
        const char *p = (const char *)subsystems[s] + offset;
        static const char zero[sizeof(void *)];
        if (memcmp(p, zero, size) == 0)
            continue;
        if (by != NULL && reg.err[0] == '\0')
            snprintf(reg.err, sizeof(reg.err), "%s: provided by both %s and %s", what, by->name,
                     subsystems[s]->name);
        by = subsystems[s];
        memcpy((char *)&reg.hooks + offset, p, size);
    }
}

#define GATHER(field)                                                                              \
    gather_hook(offsetof(struct subsystem, field), sizeof(reg.hooks.field), #field)

static void registry_build(void)
{
    int n = registry_migrations(subsystems, reg.files, MAX_MIGRATIONS, reg.err, sizeof(reg.err));
    reg.nmigrations = n < 0 ? 0 : n;
    GATHER(resolve_caller);
    GATHER(csrf_ok);
    GATHER(upload_read);
    GATHER(upload_free);
    GATHER(node_check);
    GATHER(page_handler);
    for (int s = 0; subsystems[s] != NULL && reg.err[0] == '\0'; s++)
        if (subsystems[s]->pages != NULL && reg.hooks.page_handler == NULL)
            snprintf(reg.err, sizeof(reg.err), "%s has pages but no subsystem answers them",
                     subsystems[s]->name);
}

int registry_check(char *err, size_t errlen)
{
    pthread_once(&reg_once, registry_build);
    if (reg.err[0] == '\0')
        return 0;
    snprintf(err, errlen, "subsystems: %s", reg.err);
    return -1;
}

int registry_latest_version(void)
{
    pthread_once(&reg_once, registry_build);
    return reg.nmigrations;
}

const char *registry_migration(int version)
{
    pthread_once(&reg_once, registry_build);
    return version >= 1 && version <= reg.nmigrations ? reg.files[version - 1] : NULL;
}

const struct subsystem *registry_hooks(void)
{
    pthread_once(&reg_once, registry_build);
    return &reg.hooks;
}

static void connection_init_all(void)
{
    for (int s = 0; subsystems[s] != NULL; s++)
        if (subsystems[s]->connection_init != NULL)
            subsystems[s]->connection_init();
}

void registry_connection_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, connection_init_all);
}
