#include "rt_context.h"

int rt_init(rt_context_t *ctx, size_t heap_capacity) {
    ctx->heap = rt_heap_create(heap_capacity);
    if (ctx->heap == NULL) {
        return -1;
    }
    rt_gc_init(&ctx->gc);
    return 0;
}
