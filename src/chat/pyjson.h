/* pyjson.h — JSON text exactly as Python's json.dumps(obj) writes it.
 *
 * Phi-4-mini's documented tool format is `json.dumps(tools)` in the system
 * turn, so the bytes the model saw in training are those of Python's default
 * encoder: separators ", " and ": ", ensure_ascii (every non-ASCII character as
 * a lowercase \uXXXX escape, astral ones as surrogate pairs), floats as repr(), ints
 * exactly (the literal olm_json_parse kept: "1.0" stays 1.0, -0.0 stays -0.0, integers
 * beyond 2^53 keep every digit). */
#ifndef OLM_CHAT_PYJSON_H
#define OLM_CHAT_PYJSON_H

#include <cjson/cJSON.h>
#include "common/strbuf.h"

void olm_pyjson_dump(olm_sb *b, const cJSON *v);
/* One string value with ensure_ascii escaping, quotes included. */
void olm_pyjson_string(olm_sb *b, const char *s);
/* repr() of a finite double, e.g. 0.1 → "0.1", 1e16 → "1e+16", 2.0 → "2.0". */
void olm_pyjson_float(olm_sb *b, double d);

#endif
