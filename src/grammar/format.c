/* format.c — string "format" as a regular expression.
 *
 * The reference is ajv-formats (full mode), which the tests validate with. Each
 * expression accepts a subset of what ajv-formats accepts (never more):
 *  - date: months 01-12, days within the month; 29 February is left out (ajv
 *    accepts it in leap years, a year-dependent rule not worth the states);
 *  - time / date-time: hours 00-23, minutes and seconds 00-59, a required zone
 *    (Z or ±hh:mm), "T" between date and time;
 *  - email, uri, uri-reference, uri-template, uuid, ipv4, ipv6, json-pointer,
 *    relative-json-pointer, byte: ajv-formats' own expressions (ASCII-folded
 *    where they are case-insensitive);
 *  - uri, uri-reference: without the bracketed IP-literal host ([v6 address]);
 *  - hostname: ajv's expression without its 253-character lookahead, with
 *    maxLength 253 instead;
 *  - url: http(s)/ftp URLs with a host name (no user info, no IP literal);
 *  - duration: ajv's expression with the lookaheads spelled out.
 * int32/int64/float/double constrain numbers (ajv-formats' "number" formats);
 * password and binary constrain nothing. Anything else is unsupported. */
#include "grammar/grammar.h"

#include <string.h>

typedef struct fmt {
    const char *name;
    int kind;          /* 0 regex, 1 int32, 2 integer (int64), 3 no constraint */
    const char *re;
    bool icase;
    int max_len;
} fmt;

#define IPV4OCT "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
#define DATE "\\d\\d\\d\\d-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
#define TIME "(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:[Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)"
/* ajv's host alternatives without the bracketed IP-literal branch (IPv6 / IPvFuture
 * in [...]): a subset, and a fifth of the automaton */
#define URI_AUTH_HOST "(?:(?:(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?)\\.){3}(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?)|"

static const fmt formats[] = {
    {"date", 0, "^" DATE "$", false, 0},
    {"time", 0, "^" TIME "$", false, 0},
    {"date-time", 0, "^" DATE "T" TIME "$", false, 0},
    {"duration", 0,
     "^P(?:(?:\\d+Y(?:\\d+M)?(?:\\d+D)?|\\d+M(?:\\d+D)?|\\d+D)(?:T(?:\\d+H(?:\\d+M)?(?:\\d+S)?|\\d+M(?:\\d+S)?|\\d+S))?"
     "|T(?:\\d+H(?:\\d+M)?(?:\\d+S)?|\\d+M(?:\\d+S)?|\\d+S)|\\d+W)$",
     false, 0},
    {"email", 0,
     "^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+"
     "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
     true, 0},
    {"hostname", 0, "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\\.?$", true, 253},
    {"ipv4", 0, "^(?:" IPV4OCT "\\.){3}" IPV4OCT "$", false, 0},
    {"ipv6", 0,
     "^((([0-9a-f]{1,4}:){7}([0-9a-f]{1,4}|:))|(([0-9a-f]{1,4}:){6}(:[0-9a-f]{1,4}|((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
     "(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3})|:))|(([0-9a-f]{1,4}:){5}(((:[0-9a-f]{1,4}){1,2})|:((25[0-5]|2[0-4]"
     "\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3})|:))|(([0-9a-f]{1,4}:){4}(((:[0-9a-f]{1,4})"
     "{1,3})|((:[0-9a-f]{1,4})?:((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}))|:))|"
     "(([0-9a-f]{1,4}:){3}(((:[0-9a-f]{1,4}){1,4})|((:[0-9a-f]{1,4}){0,2}:((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\."
     "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}))|:))|(([0-9a-f]{1,4}:){2}(((:[0-9a-f]{1,4}){1,5})|((:[0-9a-f]{1,4})"
     "{0,3}:((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}))|:))|(([0-9a-f]{1,4}:)"
     "{1}(((:[0-9a-f]{1,4}){1,6})|((:[0-9a-f]{1,4}){0,4}:((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|"
     "1\\d\\d|[1-9]?\\d)){3}))|:))|(:(((:[0-9a-f]{1,4}){1,7})|((:[0-9a-f]{1,4}){0,5}:((25[0-5]|2[0-4]\\d|1\\d\\d|"
     "[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}))|:)))$",
     true, 0},
    {"uuid", 0, "^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", true, 0},
    {"uri", 0,
     "^(?:[a-z][a-z0-9+\\-.]*:)(?:\\/?\\/(?:(?:[a-z0-9\\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?" URI_AUTH_HOST
     "(?:[a-z0-9\\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::\\d*)?(?:\\/(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|"
     "\\/(?:(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\\/(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|"
     "(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\\/(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)"
     "(?:\\?(?:[a-z0-9\\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?$",
     true, 0},
    {"uri-reference", 0,
     "^(?:[a-z][a-z0-9+\\-.]*:)?(?:\\/?\\/(?:(?:[a-z0-9\\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?" URI_AUTH_HOST
     "(?:[a-z0-9\\-._~!$&'\"()*+,;=]|%[0-9a-f]{2})*)(?::\\d*)?(?:\\/(?:[a-z0-9\\-._~!$&'\"()*+,;=:@]|%[0-9a-f]{2})*)*|"
     "\\/(?:(?:[a-z0-9\\-._~!$&'\"()*+,;=:@]|%[0-9a-f]{2})+(?:\\/(?:[a-z0-9\\-._~!$&'\"()*+,;=:@]|%[0-9a-f]{2})*)*)?|"
     "(?:[a-z0-9\\-._~!$&'\"()*+,;=:@]|%[0-9a-f]{2})+(?:\\/(?:[a-z0-9\\-._~!$&'\"()*+,;=:@]|%[0-9a-f]{2})*)*)?"
     "(?:\\?(?:[a-z0-9\\-._~!$&'\"()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\\-._~!$&'\"()*+,;=:@/?]|%[0-9a-f]{2})*)?$",
     true, 0},
    {"uri-template", 0,
     "^(?:(?:[^\\x00-\\x20\"'<>%\\\\^`{|}]|%[0-9a-f]{2})|\\{[+#./;?&=,!@|]?(?:[a-z0-9_]|%[0-9a-f]{2})+"
     "(?::[1-9][0-9]{0,3}|\\*)?(?:,(?:[a-z0-9_]|%[0-9a-f]{2})+(?::[1-9][0-9]{0,3}|\\*)?)*\\})*$",
     true, 0},
    {"url", 0,
     "^(?:https?|ftp):\\/\\/[a-z0-9]+(?:-[a-z0-9]+)*(?:\\.[a-z0-9]+(?:-[a-z0-9]+)*)*\\.[a-z]{2,}(?::\\d{2,5})?"
     "(?:\\/[^\\s]*)?$",
     true, 0},
    {"json-pointer", 0, "^(?:\\/(?:[^~/]|~0|~1)*)*$", false, 0},
    {"relative-json-pointer", 0, "^(?:0|[1-9][0-9]*)(?:#|(?:\\/(?:[^~/]|~0|~1)*)*)$", false, 0},
    {"byte", 0, "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", false, 0},
    {"int32", 1, NULL, false, 0},
    {"int64", 2, NULL, false, 0},
    {"float", 3, NULL, false, 0},
    {"double", 3, NULL, false, 0},
    {"password", 3, NULL, false, 0},
    {"binary", 3, NULL, false, 0},
};

/* Returns false for an unknown format. */
bool olm_format_lookup(const char *name, int *kind, const char **re, bool *icase, int *max_len) {
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (!strcmp(formats[i].name, name)) {
            *kind = formats[i].kind;
            *re = formats[i].re;
            *icase = formats[i].icase;
            *max_len = formats[i].max_len;
            return true;
        }
    return false;
}
