/* jsonw.h — writing JSON into a string builder without allocating per call
 * (SSE events are written once per generated token), and UTF-8 checks. */
#ifndef OLM_SERVER_JSONW_H
#define OLM_SERVER_JSONW_H

#include "common/strbuf.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "s" as a JSON string: quotes, escapes; invalid UTF-8 bytes become U+FFFD, so the
 * output is always valid JSON whatever the input. */
void jw_str(olm_sb *b, const char *s, size_t n);
void jw_cstr(olm_sb *b, const char *s); /* NULL writes null */
void jw_int(olm_sb *b, long long v);
void jw_num(olm_sb *b, double v); /* shortest round-trip form; non-finite → null */

/* Compact JSON of a parsed value. Numbers keep the literal src/common's parser saved
 * in valuestring (9007199254740991 stays exact, 1.0 stays 1.0), unlike
 * cJSON_Print, which rounds to 15 digits. */
void jw_value(olm_sb *b, const cJSON *v);
/* The same as a malloc'd string (NULL: out of memory). */
char *jw_print(const cJSON *v);

/* true when the n bytes are well-formed UTF-8 (no overlongs, no surrogates). */
bool jw_utf8_valid(const char *s, size_t n);

#endif
