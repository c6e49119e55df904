/*
 * The demo's registration (subsystem.h): `mesnode demo` prints the address and the logins
 * once the node listens.
 */
#include "demo/demo.h"
#include "node.h"
#include "subsystem.h"

static int demo_serve_start(struct node *n)
{
    if (n->demo)
        demo_print_banner(n);
    return 0;
}

const struct subsystem demo_subsystem = {
    .name = "demo",
    .serve_start = demo_serve_start,
};
