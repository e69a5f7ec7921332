#include "gc.h"
#include "runner.h"

void test_gc_mark_reachable(void) {
    heap_t *heap = heap_create(1024);
    gc_t gc;
    gc_init(&gc);
    value_t *shared = value_int(heap, 7);
    value_t *list = value_pair(heap, shared, value_pair(heap, shared, NULL));
    value_int(heap, 8);
    CHECK(gc_push_root(&gc, list) == 0);
    CHECK(gc_mark(&gc) == 3);
    CHECK(gc_mark(&gc) == 3);
    heap_destroy(heap);
}

void test_gc_root_stack(void) {
    heap_t *heap = heap_create(4096);
    gc_t gc;
    gc_init(&gc);
    CHECK(gc_pop_root(&gc) == NULL);
    for (int i = 0; i < GC_MAX_ROOTS; i++) {
        CHECK(gc_push_root(&gc, value_int(heap, i)) == 0);
    }
    CHECK(gc_push_root(&gc, NULL) == -1);
    CHECK(gc_pop_root(&gc)->as.i == GC_MAX_ROOTS - 1);
    CHECK(gc_mark(&gc) == GC_MAX_ROOTS - 1);
    heap_destroy(heap);
}
