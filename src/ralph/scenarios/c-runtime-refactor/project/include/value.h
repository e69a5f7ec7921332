/* Tagged runtime values: integers, strings and pairs (nil is NULL). */
#ifndef TINYRT_VALUE_H
#define TINYRT_VALUE_H

#include <stddef.h>

#include "heap.h"
#include "str.h"

typedef enum { KIND_INT, KIND_STR, KIND_PAIR } kind_t;

typedef struct value {
    kind_t kind;
    int marked;
    union {
        long i;
        str_t *s;
        struct {
            struct value *car;
            struct value *cdr;
        } pair;
    } as;
} value_t;

value_t *value_int(heap_t *heap, long i);
value_t *value_str(heap_t *heap, const char *text);
value_t *value_pair(heap_t *heap, value_t *car, value_t *cdr);
/* Writes a printable form ("(1 . nil)") into buf; returns the length it needed, like snprintf. */
int value_format(const value_t *v, char *buf, size_t size);

#endif
