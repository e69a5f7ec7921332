#include "gc.h"

void gc_init(gc_t *gc) {
    gc->nroots = 0;
}

int gc_push_root(gc_t *gc, value_t *v) {
    if (gc->nroots == GC_MAX_ROOTS) {
        return -1;
    }
    gc->roots[gc->nroots++] = v;
    return 0;
}

value_t *gc_pop_root(gc_t *gc) {
    return gc->nroots == 0 ? NULL : gc->roots[--gc->nroots];
}

static void unmark(value_t *v) {
    while (v != NULL && v->marked) {
        v->marked = 0;
        if (v->kind != KIND_PAIR) {
            return;
        }
        unmark(v->as.pair.car);
        v = v->as.pair.cdr;
    }
}

static size_t mark(value_t *v) {
    size_t count = 0;
    while (v != NULL && !v->marked) {
        v->marked = 1;
        count++;
        if (v->kind != KIND_PAIR) {
            break;
        }
        count += mark(v->as.pair.car);
        v = v->as.pair.cdr;
    }
    return count;
}

size_t gc_mark(gc_t *gc) {
    size_t count = 0;
    for (size_t i = 0; i < gc->nroots; i++) {
        unmark(gc->roots[i]);
    }
    for (size_t i = 0; i < gc->nroots; i++) {
        count += mark(gc->roots[i]);
    }
    return count;
}
