/*
 * The demo region (`mesnode demo`): three schools with classes, teachers, students, parents,
 * a medical worker and administrators, and the fixed demo logins, all with password "demo".
 */
#ifndef MES_DEMO_H
#define MES_DEMO_H

#include <stddef.h>

struct node;

/* Fills an empty database with the demo region. Returns 1 when it created it, 0 when the
 * database already held data, -1 with err on failure (nothing written). */
int demo_populate(struct node *n, char *err, size_t errlen);

/* Prints the address and the demo logins to standard output. */
void demo_print_banner(struct node *n);

#endif
