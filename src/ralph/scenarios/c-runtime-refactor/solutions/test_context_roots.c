
void test_rt_context_roots(void) {
    rt_context_t ctx;
    CHECK(rt_init(&ctx, 1024) == 0);
    rt_value_t *v = rt_value_pair(ctx.heap, rt_value_int(ctx.heap, 1), NULL);
    CHECK(rt_gc_push_root(&ctx.gc, v) == 0);
    CHECK(rt_gc_mark(&ctx.gc) == 2);
    rt_shutdown(&ctx);
    CHECK(ctx.gc.nroots == 0);
}
