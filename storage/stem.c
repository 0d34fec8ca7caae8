/*
 * stem.c - the terms of a word by language (stem_int.h): Snowball stemmers
 * for Danish, Dutch and English, hunspell's Polish dictionary for Polish.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hunspell/hunspell.h>
#include <libstemmer.h>
#include <utf8proc.h>

#include "storage/stem_int.h"
#include "storage/text_int.h"

/* Snowball's algorithm names, by enum text_lang (NULL: not Snowball). */
static const char *const snowball[TEXT_LANGS] = {
	[TEXT_LANG_DA] = "danish", [TEXT_LANG_NL] = "dutch", [TEXT_LANG_EN] = "english",
};

static const char *const dict_dirs[] = { "/usr/share/hunspell", "/usr/share/myspell" };

struct text_stemmers {
	pthread_mutex_t lock;
	struct sb_stemmer *sb[TEXT_LANGS];
	Hunhandle *pl;          /* NULL: not loaded (yet, or no dictionary) */
	bool pl_tried;
	bool pl_latin2;         /* the dictionary is in ISO-8859-2, not UTF-8 */
};

enum text_lang text_lang_of(const char *tag)
{
	if (!tag)
		return TEXT_LANG_OTHER;
	char p[4];
	size_t n = 0;
	while (tag[n] && tag[n] != '-' && tag[n] != '_' && n < 3) {
		p[n] = (char)tolower((unsigned char)tag[n]);
		n++;
	}
	if (n != 2 || (tag[n] && tag[n] != '-' && tag[n] != '_'))
		return TEXT_LANG_OTHER;
	p[2] = 0;
	if (!strcmp(p, "da"))
		return TEXT_LANG_DA;
	if (!strcmp(p, "nl"))
		return TEXT_LANG_NL;
	if (!strcmp(p, "en"))
		return TEXT_LANG_EN;
	if (!strcmp(p, "pl"))
		return TEXT_LANG_PL;
	return TEXT_LANG_OTHER;
}

int text_stemmers_new(struct text_stemmers **out)
{
	struct text_stemmers *st = calloc(1, sizeof *st);
	if (!st)
		return -ENOMEM;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return -ENOMEM;
	}
	for (int l = 0; l < TEXT_LANGS; l++) {
		if (!snowball[l])
			continue;
		/* NULL only when out of memory: the algorithms are built in */
		if (!(st->sb[l] = sb_stemmer_new(snowball[l], "UTF_8"))) {
			text_stemmers_free(st);
			return -ENOMEM;
		}
	}
	*out = st;
	return 0;
}

void text_stemmers_free(struct text_stemmers *st)
{
	if (!st)
		return;
	for (int l = 0; l < TEXT_LANGS; l++)
		sb_stemmer_delete(st->sb[l]);
	if (st->pl)
		Hunspell_destroy(st->pl);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Load the Polish dictionary once; call with the lock held. */
static void polish_load(struct text_stemmers *st)
{
	if (st->pl_tried)
		return;
	st->pl_tried = true;
	for (size_t i = 0; i < sizeof dict_dirs / sizeof dict_dirs[0]; i++) {
		char aff[128], dic[128];
		snprintf(aff, sizeof aff, "%s/pl_PL.aff", dict_dirs[i]);
		snprintf(dic, sizeof dic, "%s/pl_PL.dic", dict_dirs[i]);
		if (access(aff, R_OK) != 0 || access(dic, R_OK) != 0)
			continue;
		Hunhandle *h = Hunspell_create(aff, dic);
		if (!h)
			continue;
		const char *enc = Hunspell_get_dic_encoding(h);
		if (enc && (!strcmp(enc, "ISO8859-2") || !strcmp(enc, "ISO-8859-2"))) {
			st->pl_latin2 = true;
		} else if (!enc || strcmp(enc, "UTF-8") != 0) {
			Hunspell_destroy(h);   /* an encoding we do not convert */
			continue;
		}
		st->pl = h;
		return;
	}
}

bool text_stemmers_polish_loaded(struct text_stemmers *st)
{
	pthread_mutex_lock(&st->lock);
	bool ok = st->pl != NULL;
	pthread_mutex_unlock(&st->lock);
	return ok;
}

/* ISO-8859-2 0xA0..0xFF as Unicode. */
static const uint16_t latin2[96] = {
	0x00A0, 0x0104, 0x02D8, 0x0141, 0x00A4, 0x013D, 0x015A, 0x00A7,
	0x00A8, 0x0160, 0x015E, 0x0164, 0x0179, 0x00AD, 0x017D, 0x017B,
	0x00B0, 0x0105, 0x02DB, 0x0142, 0x00B4, 0x013E, 0x015B, 0x02C7,
	0x00B8, 0x0161, 0x015F, 0x0165, 0x017A, 0x02DD, 0x017E, 0x017C,
	0x0154, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x0139, 0x0106, 0x00C7,
	0x010C, 0x00C9, 0x0118, 0x00CB, 0x011A, 0x00CD, 0x00CE, 0x010E,
	0x0110, 0x0143, 0x0147, 0x00D3, 0x00D4, 0x0150, 0x00D6, 0x00D7,
	0x0158, 0x016E, 0x00DA, 0x0170, 0x00DC, 0x00DD, 0x0162, 0x00DF,
	0x0155, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x013A, 0x0107, 0x00E7,
	0x010D, 0x00E9, 0x0119, 0x00EB, 0x011B, 0x00ED, 0x00EE, 0x010F,
	0x0111, 0x0144, 0x0148, 0x00F3, 0x00F4, 0x0151, 0x00F6, 0x00F7,
	0x0159, 0x016F, 0x00FA, 0x0171, 0x00FC, 0x00FD, 0x0163, 0x02D9,
};

/* UTF-8 w -> the dictionary's encoding in out (cap bytes, NUL-terminated),
 * the first letter upper-cased if `cap_first`.  false if a character has no
 * place in it (the word is then not Polish). */
static bool to_dict(const struct text_stemmers *st, const char *w, size_t wl, bool cap_first,
                    char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < wl;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)w + i,
		                                      (utf8proc_ssize_t)(wl - i), &cp);
		if (n <= 0)
			return false;
		if (i == 0 && cap_first)
			cp = utf8proc_toupper(cp);
		i += (size_t)n;
		if (!st->pl_latin2) {
			utf8proc_uint8_t b[4];
			utf8proc_ssize_t k = utf8proc_encode_char(cp, b);
			if (k <= 0 || o + (size_t)k + 1 > cap)
				return false;
			memcpy(out + o, b, (size_t)k);
			o += (size_t)k;
			continue;
		}
		int byte = -1;
		if (cp < 0xA0) {
			byte = cp < 0x80 ? cp : -1;
		} else {
			for (int k = 0; k < 96; k++)
				if (latin2[k] == cp)
					byte = 0xA0 + k;
		}
		if (byte < 0 || o + 2 > cap)
			return false;
		out[o++] = (char)byte;
	}
	out[o] = 0;
	return true;
}

/* The dictionary's encoding -> UTF-8 (cap bytes, NUL-terminated). */
static bool from_dict(const struct text_stemmers *st, const char *s, char *out, size_t cap,
                      size_t *len)
{
	size_t o = 0;
	for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
		if (!st->pl_latin2 || *p < 0x80) {
			if (o + 2 > cap)
				return false;
			out[o++] = (char)*p;
			continue;
		}
		if (*p < 0xA0)
			return false;
		utf8proc_uint8_t b[4];
		utf8proc_ssize_t k = utf8proc_encode_char(latin2[*p - 0xA0], b);
		if (k <= 0 || o + (size_t)k + 1 > cap)
			return false;
		memcpy(out + o, b, (size_t)k);
		o += (size_t)k;
	}
	out[o] = 0;
	*len = o;
	return true;
}

/* Add term t to out unless it is there, too long or out is full. */
static void term_add(struct text_terms *out, const char *t, size_t tl)
{
	if (tl == 0 || tl > FTS_WORD_MAX || out->n == TEXT_TERMS_MAX)
		return;
	for (size_t i = 0; i < out->n; i++)
		if (out->len[i] == tl && memcmp(out->t[i], t, tl) == 0)
			return;
	memcpy(out->t[out->n], t, tl);
	out->t[out->n][tl] = 0;
	out->len[out->n] = (uint8_t)tl;
	out->n++;
}

/* Snowball stem of the folded word f; call with the lock held. */
static int stem_snowball(struct text_stemmers *st, enum text_lang lang, const char *f,
                         size_t fl, struct text_terms *out)
{
	const sb_symbol *s = sb_stemmer_stem(st->sb[lang], (const sb_symbol *)f, (int)fl);
	if (!s)
		return PROTO_E_NOMEM;
	int n = sb_stemmer_length(st->sb[lang]);
	term_add(out, (const char *)s, n > 0 ? (size_t)n : 0);
	return 0;
}

/* Folded Polish lemmas of w (marks kept); call with the lock held. */
static int stem_polish(struct text_stemmers *st, const char *w, size_t wl,
                       struct text_terms *out)
{
	polish_load(st);
	if (!st->pl)
		return 0;
	/* as written in lower case, and capitalised: hunspell gives a proper
	 * noun's lemma ("Poznaniu" -> "Poznań") only for the capitalised form */
	for (int capf = 0; capf < 2; capf++) {
		char dw[4 * FTS_WORD_MAX + 1];
		if (!to_dict(st, w, wl, capf, dw, sizeof dw))
			return 0;
		char **list = NULL;
		int n = Hunspell_stem(st->pl, &list, dw);
		for (int i = 0; i < n; i++) {
			char u[4 * FTS_WORD_MAX + 1], f[FTS_WORD_MAX + 1];
			size_t ul, fl;
			if (!from_dict(st, list[i], u, sizeof u, &ul))
				continue;
			int rc = text_strip(u, ul, f, sizeof f, &fl);
			if (rc == 0) {
				term_add(out, f, fl);
			} else if (rc != -ENOSPC && rc != PROTO_E_ARG) {
				Hunspell_free_list(st->pl, &list, n);
				return rc;
			}
		}
		if (n > 0)
			Hunspell_free_list(st->pl, &list, n);
	}
	return 0;
}

/* f: the folded word; *out already holds nothing or earlier terms. */
static int terms_in(struct text_stemmers *st, enum text_lang lang, const char *w, size_t wl,
                    const char *f, size_t fl, struct text_terms *out)
{
	switch (lang) {
	case TEXT_LANG_DA: case TEXT_LANG_NL: case TEXT_LANG_EN:
		return stem_snowball(st, lang, f, fl, out);
	case TEXT_LANG_PL:
		term_add(out, f, fl);
		return stem_polish(st, w, wl, out);
	default:
		term_add(out, f, fl);
		return 0;
	}
}

static int fold_word(const char *w, size_t wl, char *f, size_t *fl, struct text_terms *out)
{
	out->n = 0;
	int rc = text_strip(w, wl, f, FTS_WORD_MAX + 1, fl);
	if (rc)
		return rc == -ENOSPC ? PROTO_E_ARG : rc;
	out->marked = *fl != wl || memcmp(f, w, wl) != 0;
	return 0;
}

int text_terms(struct text_stemmers *st, enum text_lang lang, const char *w, size_t wl,
               struct text_terms *out)
{
	char f[FTS_WORD_MAX + 1];
	size_t fl;
	int rc = fold_word(w, wl, f, &fl, out);
	if (rc || fl == 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	rc = terms_in(st, lang, w, wl, f, fl, out);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int text_query_terms(struct text_stemmers *st, const char *w, size_t wl, bool polish,
                     struct text_terms *out)
{
	char f[FTS_WORD_MAX + 1];
	size_t fl;
	int rc = fold_word(w, wl, f, &fl, out);
	if (rc || fl == 0)
		return rc;
	term_add(out, f, fl);
	pthread_mutex_lock(&st->lock);
	for (int l = TEXT_LANG_OTHER + 1; l < TEXT_LANGS && rc == 0; l++)
		if (l != TEXT_LANG_PL || polish)
			rc = terms_in(st, (enum text_lang)l, w, wl, f, fl, out);
	pthread_mutex_unlock(&st->lock);
	return rc;
}
