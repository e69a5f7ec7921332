#include "gc.h"
#include "rt_context.h"
#include "runner.h"

void test_gc_mark_reachable(void) {
    rt_context_t ctx;
    CHECK(rt_init(&ctx, 1024) == 0);
    rt_value_t *shared = rt_value_int(ctx.heap, 7);
    rt_value_t *list = rt_value_pair(ctx.heap, shared, rt_value_pair(ctx.heap, shared, NULL));
    rt_value_int(ctx.heap, 8);
    CHECK(rt_gc_push_root(&ctx.gc, list) == 0);
    CHECK(rt_gc_mark(&ctx.gc) == 3);
    CHECK(rt_gc_mark(&ctx.gc) == 3);
    rt_shutdown(&ctx);
}

void test_gc_root_stack(void) {
    rt_context_t ctx;
    CHECK(rt_init(&ctx, 4096) == 0);
    CHECK(rt_gc_pop_root(&ctx.gc) == NULL);
    for (int i = 0; i < GC_MAX_ROOTS; i++) {
        CHECK(rt_gc_push_root(&ctx.gc, rt_value_int(ctx.heap, i)) == 0);
    }
    CHECK(rt_gc_push_root(&ctx.gc, NULL) == -1);
    CHECK(rt_gc_pop_root(&ctx.gc)->as.i == GC_MAX_ROOTS - 1);
    CHECK(rt_gc_mark(&ctx.gc) == GC_MAX_ROOTS - 1);
    rt_shutdown(&ctx);
}
