
void test_str_eq_differs(void) {
    rt_heap_t *heap = rt_heap_create(256);
    CHECK(!rt_str_eq(rt_str_new(heap, "abc"), rt_str_new(heap, "abd")));
    CHECK(!rt_str_eq(rt_str_new(heap, "ab"), rt_str_new(heap, "abc")));
    rt_heap_destroy(heap);
}
