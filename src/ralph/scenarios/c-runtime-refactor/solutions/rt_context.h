/* Runtime context: the heap and the GC root list that runtime code works in. */
#ifndef TINYRT_RT_CONTEXT_H
#define TINYRT_RT_CONTEXT_H

#include "gc.h"
#include "heap.h"

typedef struct rt_context {
    rt_heap_t *heap;
    rt_gc_t gc;
} rt_context_t;

#endif
