/* Arena heap: bump allocation inside one block, released all at once. */
#ifndef TINYRT_HEAP_H
#define TINYRT_HEAP_H

#include <stddef.h>

typedef struct heap {
    unsigned char *base;
    size_t capacity;
    size_t used;
} heap_t;

/* Returns NULL when the block cannot be allocated. */
heap_t *heap_create(size_t capacity);
void heap_destroy(heap_t *heap);
/* Returns NULL when the arena is full; blocks are aligned for any type. */
void *heap_alloc(heap_t *heap, size_t size);
size_t heap_used(const heap_t *heap);

#endif
