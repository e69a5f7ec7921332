
void rt_shutdown(rt_context_t *ctx) {
    ctx->gc.nroots = 0;
    rt_heap_destroy(ctx->heap);
    ctx->heap = NULL;
}
