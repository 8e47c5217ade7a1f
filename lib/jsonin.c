// SPDX-License-Identifier: MIT
/* Strict, bounded, streaming JSON input (jsonin.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonin.h"
#include "zio.h"

#define MS_JIN_BUF (1u << 20) /* read chunk: large enough that read() calls are cheap */

/* ------------------------------------------------------------------ errors */

int ms_jin_vfail(struct ms_jin *j, int err, uint32_t line, uint32_t col, const char *fmt,
		 va_list ap)
{
	int n;

	if (j->err) /* the first error is the one that explains the rest */
		return j->err;
	if (!line)
		ms_jin_where(j, &line, &col);
	n = snprintf(j->msg, sizeof(j->msg), "%s:%u:%u: ", j->name, line, col);
	if (n > 0 && (size_t)n < sizeof(j->msg))
		vsnprintf(j->msg + n, sizeof(j->msg) - (size_t)n, fmt, ap);
	/* Names quoted from the input may hold escaped control characters: one line. */
	for (char *c = j->msg; *c; c++) {
		if ((unsigned char)*c < 0x20)
			*c = '?';
	}
	/* Named like a zstd file, read as plain text: say why it did not parse. */
	if (j->z && !ms_zin_is_zstd(j->z) && ms_zio_path_is_zst(j->name) && line == 1 && col == 1) {
		size_t len = strlen(j->msg);

		snprintf(j->msg + len, sizeof(j->msg) - len,
			 " (not a zstd stream: it does not start with 28 b5 2f fd)");
	}
	j->err = err;
	return err;
}

int ms_jin_fail(struct ms_jin *j, int err, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_jin_vfail(j, err, line, col, fmt, ap);
	va_end(ap);
	return j->err;
}

#define fail(j, ...)	 ms_jin_fail(j, -EINVAL, 0, 0, __VA_ARGS__)
#define fail_eof(j, ...) ms_jin_fail(j, MS_JIN_EEOF, 0, 0, __VA_ARGS__)

/* ------------------------------------------------------------------ input */

int ms_jin_open(struct ms_jin *j, const char *path)
{
	bool is_stdin = !strcmp(path, "-");

	memset(j, 0, sizeof(*j));
	j->line = 1;
	snprintf(j->name, sizeof(j->name), "%s", is_stdin ? "<stdin>" : path);
	if (is_stdin) {
		j->fd = 0;
	} else {
		j->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (j->fd < 0) {
			j->err = -errno;
			snprintf(j->msg, sizeof(j->msg), "%s: %s", j->name, strerror(errno));
			return j->err;
		}
		j->own_fd = true;
	}
	if (ms_zin_open(&j->z, j->fd)) {
		ms_jin_close(j);
		j->err = -ENOMEM;
		snprintf(j->msg, sizeof(j->msg), "%s: out of memory", j->name);
		return j->err;
	}
	j->cap = MS_JIN_BUF;
	j->buf = malloc(j->cap);
	j->nodes_cap = 256;
	j->nodes = malloc(j->nodes_cap * sizeof(*j->nodes));
	j->acap = 1 << 16;
	j->arena = malloc(j->acap);
	if (!j->buf || !j->nodes || !j->arena) {
		ms_jin_close(j);
		j->err = -ENOMEM;
		snprintf(j->msg, sizeof(j->msg), "%s: out of memory", j->name);
		return j->err;
	}
	return 0;
}

void ms_jin_close(struct ms_jin *j)
{
	ms_zin_close(j->z);
	j->z = NULL;
	if (j->own_fd && j->fd >= 0)
		close(j->fd);
	j->own_fd = false;
	j->fd = -1;
	free(j->buf);
	free(j->nodes);
	free(j->arena);
	j->buf = NULL;
	j->nodes = NULL;
	j->arena = NULL;
}

const char *ms_jin_cut_note(struct ms_jin *j)
{
	if (!j->z || !ms_zin_truncated(j->z))
		return "";
	snprintf(j->note, sizeof(j->note), " (the zstd stream is cut short at byte %llu)",
		 (unsigned long long)ms_zin_in_bytes(j->z));
	return j->note;
}

void ms_jin_where(const struct ms_jin *j, uint32_t *line, uint32_t *col)
{
	uint64_t at = j->off + j->pos;

	*line = j->line > UINT32_MAX ? UINT32_MAX : (uint32_t)j->line;
	*col = at - j->line_off + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(at - j->line_off + 1);
}

/* Read the next chunk; 1, 0 at end of file, -1 on a read error (recorded). */
static int refill(struct ms_jin *j)
{
	ssize_t n;

	if (j->eof)
		return 0;
	j->off += j->end;
	j->pos = j->end = 0;
	n = ms_zin_read(j->z, j->buf, j->cap);
	if (n == -EBADMSG || (n < 0 && *ms_zin_error(j->z))) {
		ms_jin_fail(j, (int)n, 0, 0, "%s", ms_zin_error(j->z));
		j->eof = true;
		return -1;
	}
	if (n < 0) {
		ms_jin_fail(j, (int)n, 0, 0, "read error: %s", strerror((int)-n));
		j->eof = true;
		return -1;
	}
	if (n == 0) {
		j->eof = true;
		return 0;
	}
	j->end = (size_t)n;
	return 1;
}

static inline int peek(struct ms_jin *j)
{
	if (j->pos == j->end && refill(j) <= 0)
		return -1;
	return j->buf[j->pos];
}

int ms_jin_skip_ws(struct ms_jin *j)
{
	for (;;) {
		const unsigned char *p = j->buf + j->pos, *e = j->buf + j->end;

		/* Scan the buffer directly: white space is most of what a reader skips. */
		while (p < e) {
			unsigned char c = *p;

			if (c == ' ' || c == '\t' || c == '\r') {
				p++;
			} else if (c == '\n') {
				p++;
				j->line++;
				j->line_off = j->off + (uint64_t)(p - j->buf);
			} else {
				j->pos = (size_t)(p - j->buf);
				return c;
			}
		}
		j->pos = j->end;
		if (refill(j) <= 0)
			return -1;
	}
}

int ms_jin_skip_blank(struct ms_jin *j)
{
	int c;

	while ((c = peek(j)) == ' ' || c == '\t' || c == '\r')
		j->pos++;
	return c;
}

/* Most calls find the next token at once: only real white space takes the loop. */
static inline int skip_ws(struct ms_jin *j)
{
	if (j->pos < j->end && j->buf[j->pos] > ' ')
		return j->buf[j->pos];
	return ms_jin_skip_ws(j);
}

void ms_jin_take(struct ms_jin *j)
{
	if (j->pos < j->end)
		j->pos++;
}

static int fail_unexpected(struct ms_jin *j, int c, const char *expected)
{
	if (c < 0)
		return fail_eof(j, "unexpected end of file: expected %s", expected);
	if (c == 0)
		return fail(j, "NUL byte where %s was expected", expected);
	if (c > 0x20 && c < 0x7f)
		return fail(j, "expected %s, found '%c'", expected, c);
	return fail(j, "expected %s, found byte 0x%02x", expected, c);
}

/* ------------------------------------------------------------------ the tree */

static int new_node(struct ms_jin *j, uint8_t type, uint32_t *idx)
{
	struct ms_jnode *n;

	if (j->nnodes == j->nodes_cap) {
		uint32_t cap = j->nodes_cap * 2;
		struct ms_jnode *grown;

		if (j->nodes_cap >= MS_JIN_MAX_NODES)
			return fail(j, "more than %u values in one item", MS_JIN_MAX_NODES);
		grown = realloc(j->nodes, cap * sizeof(*grown));
		if (!grown)
			return ms_jin_fail(j, -ENOMEM, 0, 0, "out of memory");
		j->nodes = grown;
		j->nodes_cap = cap;
	}
	*idx = j->nnodes++;
	n = &j->nodes[*idx];
	n->u = 0;
	n->key = n->keylen = n->str = n->len = n->child = n->next = 0;
	n->type = type;
	n->nflags = 0;
	ms_jin_where(j, &n->line, &n->col);
	return 0;
}

static int arena_reserve(struct ms_jin *j, size_t more)
{
	size_t need = (size_t)j->alen + more, cap = j->acap;
	char *grown;

	if (need <= j->acap)
		return 0;
	if (need > MS_JIN_MAX_ARENA)
		return fail(j, "item larger than %u bytes", MS_JIN_MAX_ARENA);
	while (cap < need)
		cap *= 2;
	if (cap > MS_JIN_MAX_ARENA)
		cap = MS_JIN_MAX_ARENA;
	grown = realloc(j->arena, cap);
	if (!grown)
		return ms_jin_fail(j, -ENOMEM, 0, 0, "out of memory");
	j->arena = grown;
	j->acap = (uint32_t)cap;
	return 0;
}

/* Append n decoded bytes to the string that started at arena offset start. */
static int put(struct ms_jin *j, const void *p, size_t n, uint32_t start, uint32_t max)
{
	if ((size_t)(j->alen - start) + n > max)
		return fail(j, "string longer than %u bytes", max);
	if (arena_reserve(j, n))
		return j->err;
	memcpy(j->arena + j->alen, p, n);
	j->alen += (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------ strings */

static int hex4(struct ms_jin *j, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int c = peek(j);

		if (c < 0)
			return fail_eof(j, "unexpected end of file in a \\u escape");
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v << 4 | (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return fail(j, "invalid \\u escape: four hex digits expected");
		j->pos++;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct ms_jin *j, uint32_t cp, uint32_t start, uint32_t max)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return put(j, b, n, start, max);
}

static int escape(struct ms_jin *j, uint32_t start, uint32_t max)
{
	int c = peek(j);
	uint32_t cp, lo;
	char b;

	if (c < 0)
		return fail_eof(j, "unexpected end of file in a string escape");
	j->pos++;
	switch (c) {
	case '"':
	case '\\':
	case '/':
		b = (char)c;
		break;
	case 'b':
		b = '\b';
		break;
	case 'f':
		b = '\f';
		break;
	case 'n':
		b = '\n';
		break;
	case 'r':
		b = '\r';
		break;
	case 't':
		b = '\t';
		break;
	case 'u':
		if (hex4(j, &cp))
			return j->err;
		if (cp == 0)
			return fail(j, "\\u0000 (NUL) in a string");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(j, "unpaired UTF-16 surrogate \\u%04x", cp);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (peek(j) != '\\')
				return fail(j, "unpaired UTF-16 surrogate \\u%04x", cp);
			j->pos++;
			if (peek(j) != 'u')
				return fail(j, "unpaired UTF-16 surrogate \\u%04x", cp);
			j->pos++;
			if (hex4(j, &lo))
				return j->err;
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail(j, "unpaired UTF-16 surrogate \\u%04x", cp);
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp >= 0x80 && cp <= 0xff) { /* the writer's escape of a raw byte */
			b = (char)cp;
			break;
		}
		return put_utf8(j, cp, start, max);
	default:
		if (c > 0x20 && c < 0x7f)
			return fail(j, "invalid escape '\\%c' in a string", c);
		return fail(j, "invalid escape in a string (byte 0x%02x)", c);
	}
	return put(j, &b, 1, start, max);
}

/* One raw UTF-8 sequence starting at a byte >= 0x80: validated, then copied. */
static int utf8_seq(struct ms_jin *j, uint32_t start, uint32_t max)
{
	unsigned char b[4];
	int c = peek(j);
	size_t n;
	uint32_t cp;

	b[0] = (unsigned char)c;
	if ((c & 0xe0) == 0xc0)
		n = 2, cp = (uint32_t)c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, cp = (uint32_t)c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, cp = (uint32_t)c & 0x07;
	else
		return fail(j, "invalid UTF-8 in a string (byte 0x%02x)", c);
	j->pos++;
	for (size_t i = 1; i < n; i++) {
		c = peek(j);
		if (c < 0)
			return fail_eof(j, "unexpected end of file in a string");
		if ((c & 0xc0) != 0x80)
			return fail(j, "invalid UTF-8 in a string (byte 0x%02x)", c);
		b[i] = (unsigned char)c;
		cp = cp << 6 | ((uint32_t)c & 0x3f);
		j->pos++;
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(j, "invalid UTF-8 in a string (overlong or out of range)");
	return put(j, b, n, start, max);
}

/* Bytes a string holds as they are: printable ASCII but the quote and the backslash. */
static const uint8_t plain[256] = {
	[0x20 ... 0x21] = 1, /* '"' is 0x22 */
	[0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
	[0x5d ... 0x7f] = 1,
};

/* A string at the input position ('"' next) into the arena, NUL-terminated. */
static int parse_string(struct ms_jin *j, uint32_t max, uint32_t *off, uint32_t *len)
{
	uint32_t start = j->alen;

	j->pos++; /* the opening quote, already peeked */
	for (;;) {
		const unsigned char *p, *q, *e;
		int c;

		if (j->pos == j->end && refill(j) <= 0)
			return fail_eof(j, "unexpected end of file in a string");
		p = q = j->buf + j->pos;
		e = j->buf + j->end;
		while (q < e && plain[*q])
			q++;
		if (q > p) {
			size_t n = (size_t)(q - p);

			/* The usual short run: room is there, copy without the checks of put(). */
			if (j->alen - start + n <= max && j->alen + n + 1 <= j->acap) {
				memcpy(j->arena + j->alen, p, n);
				j->alen += (uint32_t)n;
			} else if (put(j, p, n, start, max)) {
				return j->err;
			}
		}
		j->pos += (size_t)(q - p);
		if (q == e)
			continue;
		c = *q;
		if (c == '"') {
			j->pos++;
			break;
		}
		if (c == '\\') {
			j->pos++;
			if (escape(j, start, max))
				return j->err;
		} else if (c == 0) {
			return fail(j, "NUL byte in a string");
		} else if (c < 0x20) {
			return fail(j, "control character 0x%02x in a string (must be escaped)", c);
		} else if (utf8_seq(j, start, max)) {
			return j->err;
		}
	}
	if (arena_reserve(j, 1))
		return j->err;
	j->arena[j->alen++] = 0;
	*off = start;
	*len = j->alen - start - 1;
	return 0;
}

/* ------------------------------------------------------------------ numbers and literals */

/*
 * The common case, an integer wholly inside the buffer and followed by a delimiter, read
 * in place. Returns 1 when done, 0 to take the general path (which re-reads from the start).
 */
static int number_fast(struct ms_jin *j, struct ms_jnode *n)
{
	const unsigned char *p = j->buf + j->pos, *e = j->buf + j->end, *q = p;
	uint64_t u = 0;
	size_t len;

	const unsigned char *digits;

	if (q < e && *q == '-')
		q++;
	if (q >= e || *q < '1' || *q > '9')
		return 0; /* zero, leading zeros and errors: the general path */
	/* 19 digits cannot overflow 64 bits; longer literals take the general path. */
	digits = q;
	while (q < e && *q >= '0' && *q <= '9' && q - digits < 19)
		u = u * 10 + (unsigned)(*q++ - '0');
	if (q < e && *q >= '0' && *q <= '9')
		return 0;
	if (q >= e || *q == '.' || *q == 'e' || *q == 'E')
		return 0;
	len = (size_t)(q - p);
	/* No copy of the literal: ms_jnode_num() prints it again from u when a message needs it. */
	n->nflags = MS_JN_INT | MS_JN_NOTEXT | (*p == '-' ? MS_JN_NEG : 0);
	n->u = u;
	j->pos += len;
	return 1;
}

static int number(struct ms_jin *j, struct ms_jnode *n)
{
	char lit[MS_JIN_MAX_NUMBER + 1];
	size_t len = 0;
	uint64_t u = 0;
	bool big = false, integral = true;
	int c = peek(j);

#define NUM_PUT(ch)                                                                            \
	do {                                                                                   \
		if (len == MS_JIN_MAX_NUMBER)                                                  \
			return fail(j, "number longer than %d characters", MS_JIN_MAX_NUMBER); \
		lit[len++] = (char)(ch);                                                       \
		j->pos++;                                                                      \
	} while (0)

	if (c == '-') {
		n->nflags |= MS_JN_NEG;
		NUM_PUT(c);
		c = peek(j);
	}
	if (c == '0') {
		NUM_PUT(c);
		c = peek(j);
		if (c >= '0' && c <= '9')
			return fail(j, "number with a leading zero");
	} else if (c >= '1' && c <= '9') {
		while (c >= '0' && c <= '9') {
			unsigned d = (unsigned)(c - '0');

			if (u > (UINT64_MAX - d) / 10)
				big = true;
			else
				u = u * 10 + d;
			NUM_PUT(c);
			c = peek(j);
		}
	} else {
		return c < 0 ? fail_eof(j, "unexpected end of file in a number")
			     : fail(j, "invalid number");
	}
	if (c == '.') {
		integral = false;
		NUM_PUT(c);
		c = peek(j);
		if (c < '0' || c > '9')
			return fail(j, "invalid number: digits expected after '.'");
		while (c >= '0' && c <= '9') {
			NUM_PUT(c);
			c = peek(j);
		}
	}
	if (c == 'e' || c == 'E') {
		integral = false;
		NUM_PUT(c);
		c = peek(j);
		if (c == '+' || c == '-') {
			NUM_PUT(c);
			c = peek(j);
		}
		if (c < '0' || c > '9')
			return fail(j, "invalid number: digits expected in the exponent");
		while (c >= '0' && c <= '9') {
			NUM_PUT(c);
			c = peek(j);
		}
	}
#undef NUM_PUT
	if (integral)
		n->nflags |= MS_JN_INT | (big ? MS_JN_BIG : 0);
	n->u = big ? 0 : u;
	if (arena_reserve(j, len + 1))
		return j->err;
	n->str = j->alen;
	n->len = (uint32_t)len;
	memcpy(j->arena + j->alen, lit, len);
	j->alen += (uint32_t)len;
	j->arena[j->alen++] = 0;
	return 0;
}

static int literal(struct ms_jin *j, const char *word)
{
	for (const char *w = word; *w; w++) {
		int c = peek(j);

		if (c != *w)
			return c < 0 ? fail_eof(j, "unexpected end of file in '%s'", word)
				     : fail(j, "invalid literal (expected '%s')", word);
		j->pos++;
	}
	return 0;
}

/* ------------------------------------------------------------------ values */

static int parse_value(struct ms_jin *j, unsigned depth, uint32_t *out);

static int container(struct ms_jin *j, unsigned depth, uint32_t self, bool object)
{
	const char close = object ? '}' : ']';
	uint32_t last = 0, child, koff = 0, klen = 0, count = 0;
	int c;

	if (depth >= MS_JIN_MAX_DEPTH)
		return fail(j, "nesting deeper than %d levels", MS_JIN_MAX_DEPTH);
	j->pos++; /* the opening bracket */
	c = skip_ws(j);
	if (c == close) {
		j->pos++;
		return 0;
	}
	for (;;) {
		if (object) {
			if (c != '"')
				return fail_unexpected(j, c, "a member name in quotes");
			if (parse_string(j, MS_JIN_MAX_KEY, &koff, &klen))
				return j->err;
			c = skip_ws(j);
			if (c != ':')
				return fail_unexpected(j, c, "':' after the member name");
			j->pos++;
		}
		if (parse_value(j, depth + 1, &child))
			return j->err;
		if (object) {
			j->nodes[child].key = koff;
			j->nodes[child].keylen = klen;
		}
		if (last)
			j->nodes[last].next = child;
		else
			j->nodes[self].child = child;
		last = child;
		count++;
		c = skip_ws(j);
		if (c == ',') {
			j->pos++;
			c = skip_ws(j);
			continue;
		}
		if (c == close) {
			j->pos++;
			break;
		}
		return fail_unexpected(j, c, object ? "',' or '}'" : "',' or ']'");
	}
	j->nodes[self].len = count;
	return 0;
}

static int parse_value(struct ms_jin *j, unsigned depth, uint32_t *out)
{
	int c = skip_ws(j);
	uint32_t idx;

	if (c < 0)
		return fail_unexpected(j, c, "a value");
	switch (c) {
	case '{':
	case '[':
		if (new_node(j, c == '{' ? MS_J_OBJ : MS_J_ARR, &idx))
			return j->err;
		*out = idx;
		return container(j, depth, idx, c == '{');
	case '"':
		if (new_node(j, MS_J_STR, &idx))
			return j->err;
		*out = idx;
		return parse_string(j, MS_JIN_MAX_STRING, &j->nodes[idx].str, &j->nodes[idx].len);
	case 't':
	case 'f':
	case 'n':
		if (new_node(j, c == 't' ? MS_J_TRUE : c == 'f' ? MS_J_FALSE : MS_J_NULL, &idx))
			return j->err;
		*out = idx;
		return literal(j, c == 't' ? "true" : c == 'f' ? "false" : "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			if (new_node(j, MS_J_NUM, &idx))
				return j->err;
			*out = idx;
			if (number_fast(j, &j->nodes[idx]))
				return 0;
			return number(j, &j->nodes[idx]);
		}
		return fail_unexpected(j, c, "a value");
	}
}

int ms_jin_value(struct ms_jin *j)
{
	uint32_t root;

	if (j->err)
		return j->err;
	j->nnodes = 0;
	j->alen = 0;
	return parse_value(j, 0, &root);
}

int ms_jin_key(struct ms_jin *j)
{
	uint32_t off, len;
	int c;

	if (j->err)
		return j->err;
	j->nnodes = 0;
	j->alen = 0;
	c = skip_ws(j);
	if (c != '"')
		return fail_unexpected(j, c, "a member name in quotes");
	return parse_string(j, MS_JIN_MAX_KEY, &off, &len);
}

const char *ms_jnode_num(const struct ms_jin *j, const struct ms_jnode *n, char buf[32])
{
	if (n->type != MS_J_NUM)
		return ms_jtype_name(n);
	if (!(n->nflags & MS_JN_NOTEXT))
		return j->arena + n->str;
	snprintf(buf, 32, "%s%llu", (n->nflags & MS_JN_NEG) ? "-" : "", (unsigned long long)n->u);
	return buf;
}

const char *ms_jtype_name(const struct ms_jnode *n)
{
	switch (n->type) {
	case MS_J_NULL:
		return "null";
	case MS_J_FALSE:
	case MS_J_TRUE:
		return "a boolean";
	case MS_J_NUM:
		return "a number";
	case MS_J_STR:
		return "a string";
	case MS_J_ARR:
		return "an array";
	default:
		return "an object";
	}
}
