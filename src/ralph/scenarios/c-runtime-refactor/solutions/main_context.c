/* rtdemo: builds a small list, roots it and reports what the marker reaches. */
#include <stdio.h>

#include "rt_context.h"
#include "value.h"

int main(void) {
    rt_context_t ctx;
    ctx.heap = rt_heap_create(4096);
    if (ctx.heap == NULL) {
        fprintf(stderr, "rtdemo: out of memory\n");
        return 1;
    }
    rt_gc_init(&ctx.gc);

    rt_value_t *tail = rt_value_pair(ctx.heap, rt_value_int(ctx.heap, 3), NULL);
    rt_value_t *two = rt_value_str(ctx.heap, "two");
    rt_value_t *list = rt_value_pair(ctx.heap, rt_value_int(ctx.heap, 1), rt_value_pair(ctx.heap, two, tail));
    rt_value_int(ctx.heap, 99); /* garbage: never rooted */
    rt_gc_push_root(&ctx.gc, list);

    char buf[256];
    rt_value_format(list, buf, sizeof buf);
    printf("list: %s\n", buf);
    printf("reachable: %zu\n", rt_gc_mark(&ctx.gc));
    printf("heap used: %zu bytes\n", rt_heap_used(ctx.heap));

    rt_gc_pop_root(&ctx.gc);
    rt_heap_destroy(ctx.heap);
    return 0;
}
