#include "value.h"

#include <stdio.h>

static value_t *new_value(heap_t *heap, kind_t kind) {
    value_t *v = heap_alloc(heap, sizeof *v);
    if (v != NULL) {
        v->kind = kind;
        v->marked = 0;
    }
    return v;
}

value_t *value_int(heap_t *heap, long i) {
    value_t *v = new_value(heap, KIND_INT);
    if (v != NULL) {
        v->as.i = i;
    }
    return v;
}

value_t *value_str(heap_t *heap, const char *text) {
    str_t *s = str_new(heap, text);
    value_t *v = s == NULL ? NULL : new_value(heap, KIND_STR);
    if (v != NULL) {
        v->as.s = s;
    }
    return v;
}

value_t *value_pair(heap_t *heap, value_t *car, value_t *cdr) {
    value_t *v = new_value(heap, KIND_PAIR);
    if (v != NULL) {
        v->as.pair.car = car;
        v->as.pair.cdr = cdr;
    }
    return v;
}

static char *at(char *buf, size_t size, size_t pos) {
    return pos < size ? buf + pos : NULL;
}

static size_t room(size_t pos, size_t size) {
    return pos < size ? size - pos : 0;
}

static size_t format_into(const value_t *v, char *buf, size_t size, size_t pos) {
    if (v == NULL) {
        return (size_t)snprintf(at(buf, size, pos), room(pos, size), "nil");
    }
    if (v->kind == KIND_INT) {
        return (size_t)snprintf(at(buf, size, pos), room(pos, size), "%ld", v->as.i);
    }
    if (v->kind == KIND_STR) {
        return (size_t)snprintf(at(buf, size, pos), room(pos, size), "\"%s\"", v->as.s->data);
    }
    size_t start = pos;
    pos += (size_t)snprintf(at(buf, size, pos), room(pos, size), "(");
    pos += format_into(v->as.pair.car, buf, size, pos);
    pos += (size_t)snprintf(at(buf, size, pos), room(pos, size), " . ");
    pos += format_into(v->as.pair.cdr, buf, size, pos);
    pos += (size_t)snprintf(at(buf, size, pos), room(pos, size), ")");
    return pos - start;
}

int value_format(const value_t *v, char *buf, size_t size) {
    if (size > 0) {
        buf[0] = '\0';
    }
    return (int)format_into(v, buf, size, 0);
}
