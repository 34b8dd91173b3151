/* pyjson.c — Python json.dumps() byte-compatible serialisation (see pyjson.h). */
#include "chat/pyjson.h"
#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static void put_u16(olm_sb *b, unsigned v) {
    char tmp[8];
    snprintf(tmp, sizeof tmp, "\\u%04x", v & 0xffff);
    olm_sb_put(b, tmp, 6);
}

void olm_pyjson_string(olm_sb *b, const char *s) {
    olm_sb_putc(b, '"');
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t left = strlen(s);
    while (left) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)left, &cp);
        if (n <= 0) { /* invalid byte: Python's str cannot hold it; write U+FFFD */
            cp = 0xfffd;
            n = 1;
        }
        switch (cp) {
        case '"': olm_sb_puts(b, "\\\""); break;
        case '\\': olm_sb_puts(b, "\\\\"); break;
        case '\n': olm_sb_puts(b, "\\n"); break;
        case '\r': olm_sb_puts(b, "\\r"); break;
        case '\t': olm_sb_puts(b, "\\t"); break;
        case '\b': olm_sb_puts(b, "\\b"); break;
        case '\f': olm_sb_puts(b, "\\f"); break;
        default:
            if (cp < 0x20 || cp > 0x7e) { /* Python escapes all but ' '..'~' (DEL too) */
                if (cp >= 0x10000) {
                    unsigned v = (unsigned)cp - 0x10000;
                    put_u16(b, 0xd800 | (v >> 10));
                    put_u16(b, 0xdc00 | (v & 0x3ff));
                } else put_u16(b, (unsigned)cp);
            } else olm_sb_putc(b, (char)cp);
        }
        p += n;
        left -= (size_t)n;
    }
    olm_sb_putc(b, '"');
}

/* Python's float repr: the shortest digit string that round-trips, written in
 * fixed notation when the decimal exponent is in [-4, 16), with ".0" added to
 * integral values, else as d.ddde±XX. */
void olm_pyjson_float(olm_sb *b, double d) {
    if (isnan(d)) { olm_sb_puts(b, "NaN"); return; }
    if (isinf(d)) { olm_sb_puts(b, d < 0 ? "-Infinity" : "Infinity"); return; }
    if (d == 0) { olm_sb_puts(b, signbit(d) ? "-0.0" : "0.0"); return; }
    char tmp[64];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    /* tmp = [-]d[.ddd]e±XX → digits and exponent */
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg) s++;
    char digits[32];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.') digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    int exp10 = atoi(s + 1); /* value = d.ddd × 10^exp10 */
    int decpt = exp10 + 1;   /* value = 0.dddd × 10^decpt */
    if (neg) olm_sb_putc(b, '-');
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            olm_sb_puts(b, "0.");
            for (int i = 0; i < -decpt; i++) olm_sb_putc(b, '0');
            olm_sb_put(b, digits, nd);
        } else if ((size_t)decpt >= nd) {
            olm_sb_put(b, digits, nd);
            for (size_t i = nd; i < (size_t)decpt; i++) olm_sb_putc(b, '0');
            olm_sb_puts(b, ".0");
        } else {
            olm_sb_put(b, digits, (size_t)decpt);
            olm_sb_putc(b, '.');
            olm_sb_put(b, digits + decpt, nd - (size_t)decpt);
        }
    } else {
        olm_sb_putc(b, digits[0]);
        if (nd > 1) {
            olm_sb_putc(b, '.');
            olm_sb_put(b, digits + 1, nd - 1);
        }
        snprintf(tmp, sizeof tmp, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        olm_sb_puts(b, tmp);
    }
}

static void put_number(olm_sb *b, const cJSON *v) {
    /* Python: an integer literal is an int, printed exactly as written (any size; "-0"
     * is 0); a fraction or exponent is a float, printed as repr() (1.0, -0.0, 1e+16).
     * olm_json_parse keeps the literal in valuestring. */
    if (olm_json_number_is_int(v)) {
        if (v->valuestring) {
            const char *t = v->valuestring;
            bool zero = true;
            for (const char *p = t + (*t == '-'); *p; p++) zero &= *p == '0';
            olm_sb_puts(b, zero ? "0" : t);
            return;
        }
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.0f", v->valuedouble);
        olm_sb_puts(b, strcmp(tmp, "-0") ? tmp : "0");
    } else olm_pyjson_float(b, v->valuedouble);
}

void olm_pyjson_dump(olm_sb *b, const cJSON *v) {
    if (cJSON_IsString(v)) olm_pyjson_string(b, v->valuestring);
    else if (cJSON_IsNumber(v)) put_number(b, v);
    else if (cJSON_IsTrue(v)) olm_sb_puts(b, "true");
    else if (cJSON_IsFalse(v)) olm_sb_puts(b, "false");
    else if (cJSON_IsNull(v)) olm_sb_puts(b, "null");
    else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        olm_sb_putc(b, obj ? '{' : '[');
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child) olm_sb_puts(b, ", ");
            if (obj) {
                olm_pyjson_string(b, c->string ? c->string : "");
                olm_sb_puts(b, ": ");
            }
            olm_pyjson_dump(b, c);
        }
        olm_sb_putc(b, obj ? '}' : ']');
    } else olm_sb_puts(b, "null"); /* cJSON_Raw/invalid never come out of cJSON_Parse */
}
