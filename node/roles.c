/*
 * The names of roles and scopes (roles.h).
 */
#include "roles.h"

#include <string.h>

static const char *const role_names[ROLES_COUNT] = {
    "admin", "school_admin",  "teacher",  "class_teacher", "student", "parent",
    "medic", "methodologist", "operator", "ministry",      "canteen",
};
static const char *const scope_names[SCOPES_COUNT] = {"passage", "meals", "health"};

const char *role_name(uint32_t role)
{
    for (int i = 0; i < ROLES_COUNT; i++)
        if (role == 1u << i)
            return role_names[i];
    return NULL;
}

uint32_t role_from_name(const char *name)
{
    for (int i = 0; i < ROLES_COUNT; i++)
        if (strcmp(name, role_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *scope_name(uint32_t scope)
{
    for (int i = 0; i < SCOPES_COUNT; i++)
        if (scope == 1u << i)
            return scope_names[i];
    return NULL;
}

uint32_t scope_from_name(const char *name)
{
    for (int i = 0; i < SCOPES_COUNT; i++)
        if (strcmp(name, scope_names[i]) == 0)
            return 1u << i;
    return 0;
}
