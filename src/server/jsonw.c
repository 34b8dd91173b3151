/* jsonw.c — JSON output helpers (see jsonw.h). */
#include "server/jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (1..4), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    unsigned cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

bool jw_utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(p + i, n - i);
        if (!l) return false;
        i += l;
    }
    return true;
}

void jw_str(olm_sb *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    olm_sb_reserve(b, n + 2);
    olm_sb_putc(b, '"');
    size_t run = 0; /* bytes copied as they are, flushed in one put */
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        const char *esc = NULL;
        char u[7];
        size_t l = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7F) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
            esc = u;
        } else if (c >= 0x80) {
            l = utf8_seq(p + i, n - i);
            if (!l) {
                esc = "\\ufffd";
                l = 1;
            }
        }
        if (esc) {
            olm_sb_put(b, s + i - run, run);
            run = 0;
            olm_sb_puts(b, esc);
        } else run += l;
        i += l;
    }
    olm_sb_put(b, s + n - run, run);
    olm_sb_putc(b, '"');
}

void jw_cstr(olm_sb *b, const char *s) {
    if (!s) olm_sb_puts(b, "null");
    else jw_str(b, s, strlen(s));
}

void jw_int(olm_sb *b, long long v) {
    char t[32];
    int k = snprintf(t, sizeof t, "%lld", v);
    olm_sb_put(b, t, (size_t)k);
}

void jw_num(olm_sb *b, double v) {
    if (!isfinite(v)) {
        olm_sb_puts(b, "null");
        return;
    }
    char t[40];
    if (v == floor(v) && fabs(v) < 1e15) {
        jw_int(b, (long long)v);
        return;
    }
    for (int prec = 6; prec <= 17; prec++) { /* shortest form that reads back the same */
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    olm_sb_puts(b, t);
}

void jw_value(olm_sb *b, const cJSON *v) {
    if (!v || cJSON_IsNull(v)) olm_sb_puts(b, "null");
    else if (cJSON_IsTrue(v)) olm_sb_puts(b, "true");
    else if (cJSON_IsFalse(v)) olm_sb_puts(b, "false");
    else if (cJSON_IsString(v)) jw_cstr(b, v->valuestring);
    else if (cJSON_IsNumber(v)) {
        if (v->valuestring && *v->valuestring) olm_sb_puts(b, v->valuestring);
        else jw_num(b, v->valuedouble);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        olm_sb_putc(b, obj ? '{' : '[');
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child) olm_sb_putc(b, ',');
            if (obj) {
                jw_cstr(b, c->string ? c->string : "");
                olm_sb_putc(b, ':');
            }
            jw_value(b, c);
        }
        olm_sb_putc(b, obj ? '}' : ']');
    } else olm_sb_puts(b, "null");
}

char *jw_print(const cJSON *v) {
    olm_sb b = {0};
    jw_value(&b, v);
    return olm_sb_finish(&b);
}
