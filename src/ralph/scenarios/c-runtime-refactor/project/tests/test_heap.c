#include <stdalign.h>
#include <stdint.h>

#include "heap.h"
#include "runner.h"

void test_heap_alloc_aligned(void) {
    heap_t *heap = heap_create(256);
    CHECK(heap != NULL);
    char *a = heap_alloc(heap, 3);
    void *b = heap_alloc(heap, 8);
    CHECK(a != NULL && b != NULL);
    CHECK((uintptr_t)b % alignof(max_align_t) == 0);
    CHECK(heap_used(heap) >= 11);
    heap_destroy(heap);
}

void test_heap_alloc_full(void) {
    heap_t *heap = heap_create(64);
    CHECK(heap_alloc(heap, 64) != NULL);
    CHECK(heap_alloc(heap, 1) == NULL);
    CHECK(heap_used(heap) == 64);
    heap_destroy(heap);
}
