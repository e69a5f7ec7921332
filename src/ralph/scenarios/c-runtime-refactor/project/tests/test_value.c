#include <string.h>

#include "runner.h"
#include "value.h"

void test_value_format_list(void) {
    heap_t *heap = heap_create(1024);
    value_t *list = value_pair(heap, value_int(heap, 1), value_pair(heap, value_str(heap, "x"), NULL));
    char buf[64];
    int n = value_format(list, buf, sizeof buf);
    CHECK(strcmp(buf, "(1 . (\"x\" . nil))") == 0);
    CHECK(n == (int)strlen(buf));
    heap_destroy(heap);
}

void test_value_format_truncates(void) {
    heap_t *heap = heap_create(1024);
    value_t *v = value_pair(heap, value_int(heap, 12345), NULL);
    char buf[4];
    int n = value_format(v, buf, sizeof buf);
    CHECK(n == 13);
    CHECK(strcmp(buf, "(12") == 0);
    heap_destroy(heap);
}
