/* The small JSON reader (see json.h): recursive descent, depth-limited. */
#include "json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 16

struct reader {
	const char *p;
};

static void skip_ws(struct reader *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static struct json *node(enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));

	if (j)
		j->type = t;
	return j;
}

static char *read_string(struct reader *r)
{
	size_t cap = 32, n = 0;
	char *s = malloc(cap);

	if (!s || *r->p != '"')
		goto fail;
	r->p++;
	while (*r->p != '"') {
		char c = *r->p++;

		if (!c || (unsigned char)c < 0x20)
			goto fail;
		if (c == '\\') {
			c = *r->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				char hex[5] = { 0 };
				unsigned long v;

				for (int i = 0; i < 4; i++) {
					if (!r->p[i])
						goto fail;
					hex[i] = r->p[i];
				}
				v = strtoul(hex, NULL, 16);
				r->p += 4;
				c = v < 0x80 ? (char)v : '?';   /* replies are ASCII */
				break;
			}
			default:
				goto fail;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				goto fail;
			s = t;
		}
		s[n++] = c;
	}
	r->p++;
	s[n] = '\0';
	return s;
fail:
	free(s);
	return NULL;
}

static struct json *read_value(struct reader *r, int depth);

static int push(struct json *j, char *key, struct json *v)
{
	struct json **items = realloc(j->items, (size_t)(j->n + 1) * sizeof(*items));
	char **keys;

	if (!items)
		return -1;
	j->items = items;
	if (j->type == JSON_OBJ) {
		keys = realloc(j->keys, (size_t)(j->n + 1) * sizeof(*keys));
		if (!keys)
			return -1;
		j->keys = keys;
		j->keys[j->n] = key;
	}
	j->items[j->n++] = v;
	return 0;
}

static struct json *read_container(struct reader *r, int depth, bool obj)
{
	struct json *j = node(obj ? JSON_OBJ : JSON_ARR);

	if (!j)
		return NULL;
	r->p++;
	skip_ws(r);
	if (*r->p == (obj ? '}' : ']')) {
		r->p++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *v;

		skip_ws(r);
		if (obj) {
			key = read_string(r);
			skip_ws(r);
			if (!key || *r->p != ':') {
				free(key);
				goto fail;
			}
			r->p++;
		}
		v = read_value(r, depth + 1);
		if (!v || push(j, key, v) < 0) {
			free(key);
			json_free(v);
			goto fail;
		}
		skip_ws(r);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p == (obj ? '}' : ']')) {
			r->p++;
			return j;
		}
		goto fail;
	}
fail:
	json_free(j);
	return NULL;
}

static struct json *read_value(struct reader *r, int depth)
{
	struct json *j;

	if (depth > JSON_DEPTH_MAX)
		return NULL;
	skip_ws(r);
	switch (*r->p) {
	case '{':
		return read_container(r, depth, true);
	case '[':
		return read_container(r, depth, false);
	case '"':
		j = node(JSON_STR);
		if (j && !(j->str = read_string(r))) {
			free(j);
			j = NULL;
		}
		return j;
	}
	if (!strncmp(r->p, "true", 4) || !strncmp(r->p, "false", 5)) {
		j = node(JSON_BOOL);
		if (j)
			j->num = r->p[0] == 't';
		r->p += r->p[0] == 't' ? 4 : 5;
		return j;
	}
	if (!strncmp(r->p, "null", 4)) {
		r->p += 4;
		return node(JSON_NULL);
	}
	if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
		char *end;

		j = node(JSON_NUM);
		if (!j)
			return NULL;
		j->num = strtoll(r->p, &end, 10);
		r->p = end;
		/* a fraction or exponent: skipped (integers are all we use) */
		while (*r->p == '.' || *r->p == 'e' || *r->p == 'E' || *r->p == '+' || *r->p == '-' ||
		       (*r->p >= '0' && *r->p <= '9'))
			r->p++;
		return j;
	}
	return NULL;
}

struct json *json_parse(const char *text)
{
	struct reader r = { text };
	struct json *j = read_value(&r, 0);

	skip_ws(&r);
	if (j && *r.p) {
		json_free(j);
		return NULL;
	}
	return j;
}

void json_free(struct json *j)
{
	if (!j)
		return;
	for (int i = 0; i < j->n; i++) {
		if (j->keys)
			free(j->keys[i]);
		json_free(j->items[i]);
	}
	free(j->keys);
	free(j->items);
	free(j->str);
	free(j);
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJ)
		return NULL;
	for (int i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return j->items[i];
	return NULL;
}
