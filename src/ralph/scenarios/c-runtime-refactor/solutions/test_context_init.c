#include <stdint.h>

#include "rt_context.h"
#include "runner.h"
#include "value.h"

void test_rt_init_shutdown(void) {
    rt_context_t ctx;
    CHECK(rt_init(&ctx, 512) == 0);
    CHECK(ctx.heap != NULL);
    CHECK(ctx.gc.nroots == 0);
    CHECK(rt_heap_alloc(ctx.heap, 16) != NULL);
    rt_shutdown(&ctx);
    CHECK(ctx.heap == NULL);
    CHECK(rt_init(&ctx, SIZE_MAX) == -1);
}
