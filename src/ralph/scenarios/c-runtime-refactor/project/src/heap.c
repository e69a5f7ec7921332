#include "heap.h"

#include <stdalign.h>
#include <stdlib.h>

static size_t align_up(size_t n) {
    const size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

heap_t *heap_create(size_t capacity) {
    heap_t *heap = malloc(sizeof *heap);
    if (heap == NULL) {
        return NULL;
    }
    heap->base = malloc(capacity);
    if (heap->base == NULL) {
        free(heap);
        return NULL;
    }
    heap->capacity = capacity;
    heap->used = 0;
    return heap;
}

void heap_destroy(heap_t *heap) {
    if (heap != NULL) {
        free(heap->base);
        free(heap);
    }
}

void *heap_alloc(heap_t *heap, size_t size) {
    size_t start = align_up(heap->used);
    if (size > heap->capacity || start > heap->capacity - size) {
        return NULL;
    }
    heap->used = start + size;
    return heap->base + start;
}

size_t heap_used(const heap_t *heap) {
    return heap->used;
}
