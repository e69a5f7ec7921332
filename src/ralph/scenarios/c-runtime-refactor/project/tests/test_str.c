#include "runner.h"
#include "str.h"

void test_str_new_and_len(void) {
    heap_t *heap = heap_create(256);
    str_t *s = str_new(heap, "hello");
    CHECK(s != NULL);
    CHECK(str_len(s) == 5);
    CHECK(s->data[5] == '\0');
    heap_destroy(heap);
}

void test_str_concat(void) {
    heap_t *heap = heap_create(256);
    str_t *ab = str_concat(heap, str_new(heap, "ab"), str_new(heap, "cd"));
    CHECK(str_len(ab) == 4);
    CHECK(str_eq(ab, str_new(heap, "abcd")));
    heap_destroy(heap);
}
