/* number.c — DFAs of JSON numbers with the numeric keywords.
 *
 * The DFA reads a JSON number and tracks, digit by digit, how its magnitude
 * compares with each bound's magnitude (equal so far / less / greater, and how
 * many integer digits were read, since a longer integer part is larger), the
 * remainder modulo an integer multipleOf, and how many significant digits it
 * has. Bounds are exact decimals: the shortest text of the double the schema's
 * number parses to, so "x <= bound" exactly implies double(x) <= double(bound)
 * (rounding is monotonic) and inclusive bounds agree with validators that work
 * on doubles. Exclusive bounds are safe only when x cannot round onto the
 * bound: with either one present, numbers are limited to 15 significant digits
 * (distinct decimals of <= 15 digits are distinct doubles).
 *
 * Other limits that keep every accepted text valid for a JavaScript validator
 * (ajv checks isFinite): at most 24 integer digits and a two-digit exponent;
 * integer-only syntax for "integer" (1.0 is an integer to ajv but never
 * produced); no exponent when a bound or multipleOf is present; multipleOf
 * only for positive integers, with at most 15 digits (exact in a double). */
#include "grammar/grammar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct numspec {
    bool integer;
    bool has_lo, has_hi, lo_excl, hi_excl;
    bool lo_neg, hi_neg;
    char lo_i[24], lo_f[24]; /* magnitude digits: integer part without leading zeros, fraction without trailing */
    char hi_i[24], hi_f[24];
    bool lo_zero, hi_zero;
    uint64_t mult; /* 0 = none */
    int max_sig;   /* 0 = unlimited */
    int max_int;   /* integer digits */
    bool exp;      /* exponent allowed */
} numspec;

enum { P_START, P_MINUS, P_ZERO, P_INT, P_DOT, P_FRAC, P_E, P_ESIGN, P_EXP };
enum { R_EQ = 0, R_LT = 1, R_GT = 2 };

typedef struct {
    uint8_t ph, neg, zero, lo_rel, hi_rel, sig_started, elen, pad;
    uint16_t ilen, lo_pos, hi_pos, sig;
    uint32_t rem;
} num_st;

/* Tracks one bound while reading digit d; in the integer part pos counts integer
 * digits, in the fraction it counts fraction digits. */
static void track(bool on, uint8_t *rel, uint16_t *pos, const char *bi, const char *bf, bool frac, int d) {
    if (!on) return;
    if (!frac) {
        size_t L = strlen(bi);
        if (*pos >= L) { /* more integer digits than the bound: greater */
            *rel = R_GT;
            if (*pos <= L) (*pos)++;
            return;
        }
        if (*rel == R_EQ) {
            int b = bi[*pos] - '0';
            if (d < b) *rel = R_LT;
            else if (d > b) *rel = R_GT;
        }
        (*pos)++;
        return;
    }
    if (*rel != R_EQ) {
        *pos = 0; /* decided: the position no longer matters (keeps the state space small) */
        return;
    }
    size_t L = strlen(bf);
    int b = *pos < L ? bf[*pos] - '0' : 0;
    if (d < b) *rel = R_LT;
    else if (d > b) *rel = R_GT;
    if (*rel != R_EQ) *pos = 0;
    else if (*pos < L) (*pos)++;
}

/* End of the integer part: settle the length comparison. */
static void int_end(bool on, uint8_t *rel, uint16_t *pos, const char *bi) {
    if (!on) return;
    size_t L = strlen(bi);
    if (*pos < L) *rel = R_LT;
    else if (*pos > L) *rel = R_GT;
    *pos = 0; /* now counts fraction digits */
}

static bool num_step(void *ctx, const void *s, uint8_t b, void *out) {
    const numspec *sp = ctx;
    const num_st *a = s;
    num_st *o = out;
    *o = *a;
    bool digit = b >= '0' && b <= '9';
    int d = b - '0';
    switch (a->ph) {
    case P_START:
        if (b == '-') {
            o->ph = P_MINUS;
            o->neg = 1;
            return true;
        }
        /* fallthrough */
    case P_MINUS:
        if (!digit) return false;
        o->zero = d == 0;
        o->ph = d == 0 ? P_ZERO : P_INT;
        if (d == 0) return true; /* "0": empty integer part for the comparisons */
        o->ilen = 1;
        track(sp->has_lo, &o->lo_rel, &o->lo_pos, sp->lo_i, sp->lo_f, false, d);
        track(sp->has_hi, &o->hi_rel, &o->hi_pos, sp->hi_i, sp->hi_f, false, d);
        if (sp->mult) o->rem = (uint32_t)((uint64_t)d % sp->mult);
        o->sig_started = 1;
        o->sig = 1;
        break;
    case P_ZERO:
    case P_INT:
        if (digit && a->ph == P_INT) {
            if (a->ilen >= sp->max_int) return false;
            o->ilen++;
            track(sp->has_lo, &o->lo_rel, &o->lo_pos, sp->lo_i, sp->lo_f, false, d);
            track(sp->has_hi, &o->hi_rel, &o->hi_pos, sp->hi_i, sp->hi_f, false, d);
            if (sp->mult) o->rem = (uint32_t)(((uint64_t)a->rem * 10 + (uint64_t)d) % sp->mult);
            o->sig++;
            break;
        }
        if (b == '.' && !sp->integer) {
            int_end(sp->has_lo, &o->lo_rel, &o->lo_pos, sp->lo_i);
            int_end(sp->has_hi, &o->hi_rel, &o->hi_pos, sp->hi_i);
            o->ph = P_DOT;
            return true;
        }
        if ((b == 'e' || b == 'E') && sp->exp) {
            o->ph = P_E;
            return true;
        }
        return false;
    case P_DOT:
    case P_FRAC:
        if (digit) {
            o->ph = P_FRAC;
            if (d) o->zero = 0;
            track(sp->has_lo, &o->lo_rel, &o->lo_pos, sp->lo_i, sp->lo_f, true, d);
            track(sp->has_hi, &o->hi_rel, &o->hi_pos, sp->hi_i, sp->hi_f, true, d);
            if (o->sig_started || d) {
                o->sig_started = 1;
                o->sig++;
            }
            break;
        }
        if ((b == 'e' || b == 'E') && sp->exp && a->ph == P_FRAC) {
            o->ph = P_E;
            return true;
        }
        return false;
    case P_E:
        if (b == '+' || b == '-') {
            o->ph = P_ESIGN;
            return true;
        }
        /* fallthrough */
    case P_ESIGN:
    case P_EXP:
        if (!digit || a->elen >= 2) return false;
        o->ph = P_EXP;
        o->elen++;
        return true;
    default: return false;
    }
    if (!sp->max_sig) o->sig = 0, o->sig_started = 0; /* not tracked */
    else if (o->sig > sp->max_sig) return false;
    if (!sp->has_lo && !sp->has_hi) o->zero = 0;
    return true;
}

/* Does the number read (state a, complete) satisfy the bounds and multipleOf? */
static int32_t num_accept(void *ctx, const void *s) {
    const numspec *sp = ctx;
    num_st a = *(const num_st *)s;
    if (a.ph != P_ZERO && a.ph != P_INT && a.ph != P_FRAC && a.ph != P_EXP) return -1;
    if (a.ph == P_ZERO || a.ph == P_INT) { /* integer part ended */
        int_end(sp->has_lo, &a.lo_rel, &a.lo_pos, sp->lo_i);
        int_end(sp->has_hi, &a.hi_rel, &a.hi_pos, sp->hi_i);
    }
    if (sp->mult && a.rem != 0) return -1;
    /* equal so far but the bound has fraction digits left (never trailing zeros): smaller */
    if (sp->has_lo && a.lo_rel == R_EQ && a.lo_pos < strlen(sp->lo_f)) a.lo_rel = R_LT;
    if (sp->has_hi && a.hi_rel == R_EQ && a.hi_pos < strlen(sp->hi_f)) a.hi_rel = R_LT;
    bool zero = a.zero;
    if (sp->has_lo) {
        /* v >= lo (or >) */
        bool ok;
        if (!sp->lo_neg) {
            if (a.neg) ok = zero && sp->lo_zero && !sp->lo_excl;
            else ok = a.lo_rel == R_GT || (a.lo_rel == R_EQ && !sp->lo_excl);
        } else {
            if (!a.neg || zero) ok = true; /* v >= 0 > lo */
            else ok = a.lo_rel == R_LT || (a.lo_rel == R_EQ && !sp->lo_excl);
        }
        if (!ok) return -1;
    }
    if (sp->has_hi) {
        bool ok;
        if (sp->hi_neg) {
            if (!a.neg || zero) ok = false; /* v >= 0 > hi */
            else ok = a.hi_rel == R_GT || (a.hi_rel == R_EQ && !sp->hi_excl);
        } else {
            if (a.neg) ok = !(zero && sp->hi_zero && sp->hi_excl);
            else ok = a.hi_rel == R_LT || (a.hi_rel == R_EQ && !sp->hi_excl);
        }
        if (!ok) return -1;
    }
    return 0;
}

/* Shortest decimal text that reads back as v; into digits of the magnitude. */
static bool split_bound(double v, bool *neg, bool *zero, char *ip, char *fp) {
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* buf: [-]d.ddde[+-]XX */
    *neg = buf[0] == '-';
    const char *p = buf + (*neg ? 1 : 0);
    char mant[32];
    size_t m = 0;
    while (*p && *p != 'e') {
        if (*p != '.') mant[m++] = *p;
        p++;
    }
    mant[m] = 0;
    int e = atoi(p + 1);
    /* value = 0.mant * 10^(e+1) */
    int point = e + 1; /* digits before the decimal point */
    if (point > 20 || point < -20) return false;
    size_t ni = 0, nf = 0;
    for (int k = 0; k < point; k++) ip[ni++] = k < (int)m ? mant[k] : '0';
    for (int k = point < 0 ? point : 0; k < 0; k++) fp[nf++] = '0';
    for (int k = point > 0 ? point : 0; k < (int)m; k++) fp[nf++] = mant[k];
    ip[ni] = 0;
    fp[nf] = 0;
    /* strip leading zeros of the integer part and trailing zeros of the fraction */
    size_t lz = 0;
    while (ip[lz] == '0') lz++;
    memmove(ip, ip + lz, strlen(ip + lz) + 1);
    while (nf && fp[nf - 1] == '0') fp[--nf] = 0;
    *zero = !ip[0] && !fp[0];
    if (*zero) *neg = false;
    return true;
}

/* Builds the number DFA. lo/hi: NAN = none. Returns UNSUPPORTED with a reason. */
onnxllm_status olm_number_dfa(bool integer, double lo, bool lo_excl, double hi, bool hi_excl, double mult,
                              olm_dfa *out, char *why, size_t why_len) {
    numspec sp;
    memset(&sp, 0, sizeof sp);
    sp.integer = integer;
    sp.max_int = 24;
    sp.exp = !integer;
    if (!isnan(mult)) {
        if (!(mult > 0) || mult != floor(mult) || mult > 1e9) {
            snprintf(why, why_len, "multipleOf: only positive integers up to 1e9 are supported (got %g)", mult);
            return ONNXLLM_ERR_UNSUPPORTED;
        }
        sp.mult = (uint64_t)mult;
        if (sp.mult == 1) sp.mult = 0;
        sp.integer = true;
        sp.exp = false;
        sp.max_sig = 15;
        sp.max_int = 15;
    }
    if (!isnan(lo)) {
        if (!split_bound(lo, &sp.lo_neg, &sp.lo_zero, sp.lo_i, sp.lo_f)) {
            snprintf(why, why_len, "minimum: %g is outside the supported range (|x| < 1e20, > 1e-20)", lo);
            return ONNXLLM_ERR_UNSUPPORTED;
        }
        sp.has_lo = true;
        sp.lo_excl = lo_excl;
    }
    if (!isnan(hi)) {
        if (!split_bound(hi, &sp.hi_neg, &sp.hi_zero, sp.hi_i, sp.hi_f)) {
            snprintf(why, why_len, "maximum: %g is outside the supported range (|x| < 1e20, > 1e-20)", hi);
            return ONNXLLM_ERR_UNSUPPORTED;
        }
        sp.has_hi = true;
        sp.hi_excl = hi_excl;
    }
    if (sp.has_lo || sp.has_hi) {
        sp.exp = false;
        if ((sp.has_lo && sp.lo_excl) || (sp.has_hi && sp.hi_excl)) sp.max_sig = 15;
        if (sp.max_int > 21) sp.max_int = 21;
    }
    uint8_t hint[256];
    memset(hint, 0, sizeof hint);
    const char *sig = "0123456789-+.eE";
    for (int i = 0; sig[i]; i++) hint[(uint8_t)sig[i]] = (uint8_t)(i + 1);
    olm_explorer x = {sizeof(num_st), num_step, num_accept, NULL, &sp, hint};
    num_st init;
    memset(&init, 0, sizeof init);
    onnxllm_status st = olm_dfa_explore(&x, &init, 20000, out, why, why_len);
    if (st) return st;
    return olm_dfa_analyse(out, false) ? ONNXLLM_OK : ONNXLLM_ERR_OUT_OF_MEMORY;
}
