/* SPDX-License-Identifier: MIT */
/*
 * A strict, bounded, streaming JSON input for the timeline reader.
 *
 * Why not cJSON: cJSON turns every number into a double, so addresses above 2^53 would
 * round, and it needs the whole text in memory. Here the input is read in fixed chunks and
 * parsed one value at a time into a small tree (struct ms_jnode) that is reused for the
 * next value, so memory is bounded by the largest single item, never by the file.
 *
 * Strict RFC 8259 grammar, plus limits that make hostile input harmless: nesting depth,
 * string, key and number lengths, nodes and bytes per value. Strings must be valid UTF-8
 * and may not contain NUL (raw or escaped). Integers keep all 64 bits.
 *
 * One convention of memstate's writer is undone here: it writes a byte that is not part of
 * valid UTF-8 as \u0080..\u00ff, so those escapes decode to that single raw byte (a command
 * word or path with arbitrary bytes round-trips exactly; see docs/timeline.md).
 *
 * Errors: the first one is kept, as "name:line:col: what", and every later call fails.
 * A corrupt zstd stream is -EBADMSG, "name:line:col: corrupt zstd frame at byte N: ...".
 */
#ifndef MEMSTATE_EXPORT_JSONIN_H
#define MEMSTATE_EXPORT_JSONIN_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_JIN_MAX_DEPTH  32	      /* nesting of arrays and objects in one value */
#define MS_JIN_MAX_STRING (1u << 20)  /* bytes of one decoded string */
#define MS_JIN_MAX_KEY	  256	      /* bytes of one object key */
#define MS_JIN_MAX_NUMBER 64	      /* characters of one number literal */
#define MS_JIN_MAX_NODES  (1u << 20)  /* values in one parsed value */
#define MS_JIN_MAX_ARENA  (16u << 20) /* decoded bytes (strings, keys, numbers) per value */

/* Error codes besides negative errnos from the system. */
#define MS_JIN_EEOF (-ENODATA) /* the input ended inside a value */

enum ms_jtype {
	MS_J_NULL = 1,
	MS_J_FALSE,
	MS_J_TRUE,
	MS_J_NUM,
	MS_J_STR,
	MS_J_ARR,
	MS_J_OBJ,
};

/* ms_jnode.nflags */
#define MS_JN_INT    0x01 /* no fraction or exponent */
#define MS_JN_NEG    0x02 /* a leading minus */
#define MS_JN_BIG    0x04 /* integral, but the magnitude does not fit in 64 bits */
#define MS_JN_NOTEXT 0x08 /* the literal was not kept: ms_jnode_num() prints it from u */

/* One value of a parsed tree; index 0 is the root, so 0 also means "none" in links. */
struct ms_jnode {
	uint64_t u;	 /* number: magnitude, when MS_JN_INT and not MS_JN_BIG */
	uint32_t key;	 /* member of an object: arena offset of its NUL-terminated key */
	uint32_t keylen; /* bytes of the key */
	uint32_t str;	 /* string or number: arena offset of the NUL-terminated text */
	uint32_t len;	 /* string: bytes; array or object: members */
	uint32_t child;	 /* array or object: first member, 0 when empty */
	uint32_t next;	 /* next member of the same parent, 0 at the end */
	uint32_t line;	 /* where the value starts, for messages */
	uint32_t col;	 /* its column (bytes, from 1) */
	uint8_t type;	 /* enum ms_jtype */
	uint8_t nflags;	 /* MS_JN_* */
};

struct ms_zin;

struct ms_jin {
	int fd;		    /* input */
	struct ms_zin *z;   /* reads fd: plain or zstd, told by the magic (lib/zio.h) */
	bool own_fd;	    /* close it at the end */
	char name[256];	    /* file name for messages */
	unsigned char *buf; /* read buffer */
	size_t cap;	    /* its size */
	size_t pos;	    /* next byte to look at */
	size_t end;	    /* bytes valid in buf */
	bool eof;	    /* read() said end of file */
	uint64_t off;	    /* file offset of buf[0] */
	uint64_t line;	    /* line of buf[pos], from 1 */
	uint64_t line_off;  /* file offset where that line starts */

	struct ms_jnode *nodes; /* the tree of the last value parsed */
	uint32_t nnodes;	/* nodes in use */
	uint32_t nodes_cap;	/* nodes allocated */
	char *arena;		/* decoded strings, keys and number literals */
	uint32_t alen;		/* arena bytes in use */
	uint32_t acap;		/* arena bytes allocated */

	int err;       /* first error: 0, -EINVAL, MS_JIN_EEOF, -ENOMEM or a read errno */
	char msg[512]; /* the error as one line */
	char note[96]; /* ms_jin_cut_note()'s text */
};

/* Open path ("-" is stdin), plain or zstd. 0, or -errno with a line in j->msg. */
int ms_jin_open(struct ms_jin *j, const char *path);
/*
 * After the end of input: how it ended when it was a zstd stream cut inside a frame
 * (" (the zstd stream is cut short at byte N)"), else "". For messages about a cut file.
 */
const char *ms_jin_cut_note(struct ms_jin *j);
void ms_jin_close(struct ms_jin *j);

/* Skip white space (counting lines). Returns the next byte, or -1 at end of input. */
int ms_jin_skip_ws(struct ms_jin *j);
/* Skip spaces, tabs and CRs only; returns the next byte or -1. For JSON Lines. */
int ms_jin_skip_blank(struct ms_jin *j);
/* Consume the byte ms_jin_skip_ws() returned. */
void ms_jin_take(struct ms_jin *j);
/* Where the next byte is. */
void ms_jin_where(const struct ms_jin *j, uint32_t *line, uint32_t *col);

/* Parse one value at the input position into j->nodes (root at index 0). 0 or error. */
int ms_jin_value(struct ms_jin *j);
/* Parse one string (an object key); its text is at j->arena (j->alen - 1 bytes). */
int ms_jin_key(struct ms_jin *j);

/* Record an error at a place (or at the input position when line is 0). Returns j->err. */
int ms_jin_fail(struct ms_jin *j, int err, uint32_t line, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int ms_jin_vfail(struct ms_jin *j, int err, uint32_t line, uint32_t col, const char *fmt,
		 va_list ap);

static inline const struct ms_jnode *ms_jnode_at(const struct ms_jin *j, uint32_t i)
{
	return &j->nodes[i];
}

static inline const char *ms_jnode_str(const struct ms_jin *j, const struct ms_jnode *n)
{
	return j->arena + n->str;
}

static inline const char *ms_jnode_key(const struct ms_jin *j, const struct ms_jnode *n)
{
	return j->arena + n->key;
}

/* A number's literal for messages (buf holds it when it was not kept). */
const char *ms_jnode_num(const struct ms_jin *j, const struct ms_jnode *n, char buf[32]);
/* "a string", "an integer"... for messages. */
const char *ms_jtype_name(const struct ms_jnode *n);

#endif /* MEMSTATE_EXPORT_JSONIN_H */
