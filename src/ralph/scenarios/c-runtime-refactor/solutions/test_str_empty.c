
void test_str_concat_empty(void) {
    rt_heap_t *heap = rt_heap_create(256);
    rt_str_t *empty = rt_str_new(heap, "");
    rt_str_t *s = rt_str_concat(heap, empty, rt_str_new(heap, "abc"));
    CHECK(rt_str_len(empty) == 0);
    CHECK(rt_str_len(s) == 3);
    CHECK(rt_str_eq(s, rt_str_new(heap, "abc")));
    rt_heap_destroy(heap);
}
