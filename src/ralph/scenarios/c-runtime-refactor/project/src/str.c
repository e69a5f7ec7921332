#include "str.h"

#include <string.h>

static str_t *alloc_str(heap_t *heap, size_t len) {
    str_t *s = heap_alloc(heap, sizeof *s + len + 1);
    if (s != NULL) {
        s->len = len;
        s->data[len] = '\0';
    }
    return s;
}

str_t *str_new(heap_t *heap, const char *text) {
    size_t len = strlen(text);
    str_t *s = alloc_str(heap, len);
    if (s != NULL) {
        memcpy(s->data, text, len);
    }
    return s;
}

str_t *str_concat(heap_t *heap, const str_t *a, const str_t *b) {
    str_t *s = alloc_str(heap, a->len + b->len);
    if (s != NULL) {
        memcpy(s->data, a->data, a->len);
        memcpy(s->data + a->len, b->data, b->len);
    }
    return s;
}

size_t str_len(const str_t *s) {
    return s->len;
}

int str_eq(const str_t *a, const str_t *b) {
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}
