/* unicode.c — UTF-8 helpers and the character classes the pre-tokenizers need.
 * Categories come from utf8proc (Debian's libutf8proc), not from hand tables.
 * White_Space is not a utf8proc property; it equals Zs ∪ Zl ∪ Zp ∪ {U+0009..U+000D,
 * U+0085} (the definition in Unicode's PropList.txt since 6.3), which matches the
 * `\s` of HF's Oniguruma and of Rust's regex. */
#include "tokenizer/tok_internal.h"

#include <utf8proc.h>

int olm_utf8_encode(int32_t cp, char *out) {
    unsigned c = (unsigned)cp;
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Length of a valid UTF-8 sequence at s, or -k where k >= 1 is the length of the
 * maximal invalid subpart to replace by one U+FFFD (Unicode §3.9, as Rust does). */
static int utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return -1;
    for (int k = 1; k < need; k++) {
        if ((size_t)k >= n) return -k;
        unsigned b = s[k];
        unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) return -k;
    }
    return need;
}

size_t olm_utf8_valid_prefix(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) { i++; continue; }
        int k = utf8_seq(u + i, n - i);
        if (k < 0) return i;
        i += (size_t)k;
    }
    return n;
}

bool olm_utf8_lossy(olm_buf *out, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        int k = u[i] < 0x80 ? 1 : utf8_seq(u + i, n - i);
        if (k > 0) { i += (size_t)k; continue; }
        if (!olm_buf_put(out, s + run, i - run) || !olm_buf_put(out, "\xEF\xBF\xBD", 3)) return false;
        i += (size_t)-k;
        run = i;
    }
    return olm_buf_put(out, s + run, n - run);
}

unsigned olm_char_class(int32_t cp) {
    if (cp < 0x80) {
        if (cp >= 'a' && cp <= 'z') return OLM_CC_LL | OLM_CC_ALNUM;
        if (cp >= 'A' && cp <= 'Z') return OLM_CC_LU | OLM_CC_ALNUM;
        if (cp >= '0' && cp <= '9') return OLM_CC_N | OLM_CC_ND | OLM_CC_ALNUM;
        if (cp == ' ' || (cp >= 9 && cp <= 13)) return OLM_CC_WS;
        if (cp < 0x20 || cp == 0x7F) return 0;
        /* ASCII punctuation vs symbols ($+<=>^`|~ are S*) */
        switch (cp) {
        case '$': case '+': case '<': case '=': case '>': case '^': case '`': case '|': case '~': return 0;
        default: return OLM_CC_P;
        }
    }
    if (cp == 0x85) return OLM_CC_WS;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: return OLM_CC_LU | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_LL: return OLM_CC_LL | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_LT: return OLM_CC_LT | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_LM: return OLM_CC_LM | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_LO: return OLM_CC_LO | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME: return OLM_CC_M;
    case UTF8PROC_CATEGORY_ND: return OLM_CC_N | OLM_CC_ND | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return OLM_CC_N | OLM_CC_ALNUM;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: return OLM_CC_WS;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: return OLM_CC_P;
    default: return 0;
    }
}

/* GPT-2 byte-level alphabet: printable bytes map to themselves, the 68 others to
 * U+0100 + their rank among the non-printable bytes. */
static bool bl_printable(unsigned b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174); }

int32_t olm_bytelevel_char(unsigned char b) {
    if (bl_printable(b)) return b;
    if (b <= 32) return 0x100 + b;
    if (b <= 160) return 0x100 + 33 + (b - 127);
    return 0x100 + 67; /* 173 */
}

int olm_bytelevel_byte(int32_t cp) {
    if (cp < 0 || cp > 0x143) return -1;
    if (cp < 0x100) return bl_printable((unsigned)cp) ? cp : -1;
    int k = cp - 0x100;
    if (k <= 32) return k;
    if (k <= 66) return 127 + (k - 33);
    return 173;
}
