/* rtdemo: builds a small list, roots it and reports what the marker reaches. */
#include <stdio.h>

#include "gc.h"
#include "heap.h"
#include "value.h"

int main(void) {
    heap_t *heap = heap_create(4096);
    if (heap == NULL) {
        fprintf(stderr, "rtdemo: out of memory\n");
        return 1;
    }
    gc_t gc;
    gc_init(&gc);

    value_t *tail = value_pair(heap, value_int(heap, 3), NULL);
    value_t *list = value_pair(heap, value_int(heap, 1), value_pair(heap, value_str(heap, "two"), tail));
    value_int(heap, 99); /* garbage: never rooted */
    gc_push_root(&gc, list);

    char buf[256];
    value_format(list, buf, sizeof buf);
    printf("list: %s\n", buf);
    printf("reachable: %zu\n", gc_mark(&gc));
    printf("heap used: %zu bytes\n", heap_used(heap));

    gc_pop_root(&gc);
    heap_destroy(heap);
    return 0;
}
