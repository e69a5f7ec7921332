/* Immutable length-prefixed strings allocated in a heap. */
#ifndef TINYRT_STR_H
#define TINYRT_STR_H

#include <stddef.h>

#include "heap.h"

typedef struct str {
    size_t len;
    char data[];
} str_t;

str_t *str_new(heap_t *heap, const char *text);
str_t *str_concat(heap_t *heap, const str_t *a, const str_t *b);
size_t str_len(const str_t *s);
/* 1 when both strings hold the same bytes. */
int str_eq(const str_t *a, const str_t *b);

#endif
