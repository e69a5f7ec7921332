/* GC mark list: a stack of roots and a marker that flags every value reachable from them. */
#ifndef TINYRT_GC_H
#define TINYRT_GC_H

#include <stddef.h>

#include "value.h"

#define GC_MAX_ROOTS 64

typedef struct gc {
    value_t *roots[GC_MAX_ROOTS];
    size_t nroots;
} gc_t;

void gc_init(gc_t *gc);
/* Returns 0, or -1 when the root stack is full. */
int gc_push_root(gc_t *gc, value_t *v);
/* Returns the popped root, or NULL when there is none. */
value_t *gc_pop_root(gc_t *gc);
/* Clears old marks, marks everything reachable from the roots and returns how many values are marked. */
size_t gc_mark(gc_t *gc);

#endif
