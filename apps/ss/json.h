/* A small JSON reader for DPDK telemetry replies: objects, arrays,
 * strings (with \" \\ \/ \b \f \n \r \t and \u00XX escapes), integers,
 * true, false, null. Floats are read as their integer part. Enough for
 * what dtcp's telemetry commands send, nothing more. Any thread. */
#ifndef DTCP_APPS_JSON_H
#define DTCP_APPS_JSON_H

#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
	enum json_type type;
	long long num;            /* JSON_NUM, JSON_BOOL (0/1) */
	char *str;                /* JSON_STR */
	int n;                    /* JSON_ARR, JSON_OBJ: members */
	char **keys;              /* JSON_OBJ */
	struct json **items;
};

/* Parse text (NUL-terminated); NULL if it is not JSON or too deep. */
struct json *json_parse(const char *text);
void json_free(struct json *j);
/* An object's member, or NULL (j NULL or not an object is allowed). */
const struct json *json_get(const struct json *j, const char *key);

#endif
