/*
 * Roles and scopes: who may call a route (http.h's struct route names them). Roles are held by
 * accounts (PRODUCT.md section 2; a person may hold several, each grant scoped to an
 * institution or the whole region); scopes by device tokens (turnstiles, buffet terminals,
 * clinics). Both are bit sets so that a route allows several at once. The names are the ones
 * the API, docs/openapi.yaml and `mesnode routes` use.
 */
#ifndef MES_ROLES_H
#define MES_ROLES_H

#include <stdint.h>

enum role {
    ROLE_ADMIN = 1u << 0,
    ROLE_SCHOOL_ADMIN = 1u << 1,
    ROLE_TEACHER = 1u << 2,
    ROLE_CLASS_TEACHER = 1u << 3,
    ROLE_STUDENT = 1u << 4,
    ROLE_PARENT = 1u << 5,
    ROLE_MEDIC = 1u << 6,
    ROLE_METHODOLOGIST = 1u << 7,
    ROLE_OPERATOR = 1u << 8,
    ROLE_MINISTRY = 1u << 9,
    ROLE_CANTEEN = 1u << 10, /* a school's canteen operator («Москвёнок»: sales, refunds) */
};
#define ROLES_ANY   0x7ffu
#define ROLES_COUNT 11

enum scope {
    SCOPE_PASSAGE = 1u << 0,
    SCOPE_MEALS = 1u << 1,
    SCOPE_HEALTH = 1u << 2,
};
#define SCOPES_ANY   0x7u
#define SCOPES_COUNT 3

/* The name of one role bit ("school_admin"); NULL for anything else (0, several bits). */
const char *role_name(uint32_t role);
/* The role bit of a name; 0 when unknown. */
uint32_t role_from_name(const char *name);
/* The name of one scope bit ("meals"); NULL for anything else. */
const char *scope_name(uint32_t scope);
/* The scope bit of a name; 0 when unknown. */
uint32_t scope_from_name(const char *name);

#endif
