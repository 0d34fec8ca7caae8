/*
 * search_test.c - what a full-text query finds: words stemmed in the
 * language of the text they stand in (the record's, or a translation's),
 * accent-insensitive matching with exact accents ranked higher, prefixes
 * with a trailing *, phrases in double quotes, and a store of the previous
 * layout (tests/storage/fixtures/layout5, written by the old code) that
 * answers as before when opened read-only and is migrated on its first
 * read-write open.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper.h"
#include "storage/stem_int.h"
#include "storage/store_int.h"

#define HOUR 3600000ULL

/* A measure in `lang` with a title, a summary, tags, and (if tr_lang) one
 * translation with a title. */
static struct th_env measure(struct th_feed *f, const char *lang, const char *title,
                             const char *summary, const char *tr_lang, const char *tr_title,
                             uint64_t at)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	Agora__Translation tr = AGORA__TRANSLATION__INIT, *trs[1] = { &tr };
	m.title = (char *)title;
	m.summary = (char *)summary;
	m.language = (char *)lang;
	m.has_mitigation = 1;
	m.mitigation = 1;
	if (tr_lang) {
		tr.language = (char *)tr_lang;
		tr.title = (char *)tr_title;
		m.n_translations = 1;
		m.translations = trs;
	}
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	return th_sign(f, &r, at);
}

/* Sign and ingest a measure; returns nothing, the test fails on error. */
static void add(struct th_fx *x, const char *lang, const char *title, const char *summary,
                uint64_t at)
{
	struct th_env e = measure(&x->f1, lang, title, summary, NULL, NULL, at);
	assert_int_equal(th_ingest1(x->s, &e), STORE_NEW);
	th_env_free(&e);
}

/* The titles a query finds, in order, joined by " | " into out. */
struct found {
	char text[4096];
	size_t n;
	double score[64];
	uint8_t id[64][PROTO_ID_BYTES];
};

static int found_cb(const struct store_hit *h, void *ctx)
{
	struct found *fd = ctx;
	Agora__Record *r;
	assert_int_equal(proto_envelope_decode(&r, h->rec.env, h->rec.env_len, NULL), 0);
	const ProtobufCMessage *msg;
	const char *title = "?";
	switch (proto_record_content(r, &msg)) {
	case PROTO_KIND_MEASURE: title = ((const Agora__Measure *)msg)->title; break;
	case PROTO_KIND_LESSON: title = ((const Agora__Lesson *)msg)->title; break;
	default: break;
	}
	size_t l = strlen(fd->text);
	snprintf(fd->text + l, sizeof fd->text - l, "%s%s", l ? " | " : "", title ? title : "");
	if (fd->n < 64) {
		fd->score[fd->n] = h->score;
		memcpy(fd->id[fd->n], h->rec.id, PROTO_ID_BYTES);
	}
	fd->n++;
	agora__record__free_unpacked(r, NULL);
	return 0;
}

static int query_full(struct store *s, const char *text, const char *tag, enum store_sort sort,
                      size_t limit, struct found *fd)
{
	struct store_txn *t;
	struct store_query q;
	memset(&q, 0, sizeof q);
	memset(fd, 0, sizeof *fd);
	q.text = text;
	q.tag = tag;
	q.sort = sort;
	q.limit = limit;
	assert_int_equal(store_txn_begin(s, &t), 0);
	int n = store_query(t, &q, found_cb, fd, NULL);
	store_txn_end(t);
	return n;
}

/* Titles found by text, relevance first (ties: newest first). */
static const char *find(struct store *s, const char *text)
{
	static struct found fd;
	int n = query_full(s, text, NULL, STORE_SORT_RELEVANCE, 0, &fd);
	assert_true(n >= 0);
	return fd.text;
}

/* Titles found by text, newest first. */
static const char *find_newest(struct store *s, const char *text)
{
	static struct found fd;
	int n = query_full(s, text, NULL, STORE_SORT_NEWEST, 0, &fd);
	assert_true(n >= 0);
	return fd.text;
}

static bool have_polish_dictionary(void)
{
	return access("/usr/share/hunspell/pl_PL.dic", R_OK) == 0 &&
	       access("/usr/share/hunspell/pl_PL.aff", R_OK) == 0;
}

/* ------------------------------------------------------------ stemming */

static void test_store_search__danish_text_is_stemmed_as_danish_only(void **state)
{
	struct th_fx *x = *state;
	add(x, "da", "Boligerne", NULL, TH_NOW - 3 * HOUR);
	add(x, "en", "Boligerne (en)", "boligerne", TH_NOW - 2 * HOUR);
	/* Danish strips -erne: "bolig" meets "boligerne" in the Danish record
	 * only; English does not know the ending */
	assert_string_equal(find(x->s, "bolig"), "Boligerne");
	assert_string_equal(find_newest(x->s, "boligerne"), "Boligerne (en) | Boligerne");
}

static void test_store_search__english_text_is_stemmed_as_english_only(void **state)
{
	struct th_fx *x = *state;
	add(x, "en", "Flooding", NULL, TH_NOW - 3 * HOUR);
	add(x, "da", "Flooding (da)", "flooding", TH_NOW - 2 * HOUR);
	assert_string_equal(find(x->s, "flood"), "Flooding");
	assert_string_equal(find(x->s, "floods"), "Flooding");
	assert_string_equal(find_newest(x->s, "flooding"), "Flooding (da) | Flooding");
}

static void test_store_search__dutch_text_is_stemmed_as_dutch_only(void **state)
{
	struct th_fx *x = *state;
	add(x, "nl", "Mogelijkheden", "bomen in de wijken", TH_NOW - 3 * HOUR);
	add(x, "en", "Mogelijkheden (en)", "mogelijkheden", TH_NOW - 2 * HOUR);
	assert_string_equal(find(x->s, "mogelijkheid"), "Mogelijkheden");
	assert_string_equal(find(x->s, "boom wijk"), "Mogelijkheden");
}

static void test_store_search__a_translation_is_stemmed_in_its_own_language(void **state)
{
	struct th_fx *x = *state;
	struct th_env e = measure(&x->f1, "da", "Vådområder ved åen", NULL, "en",
	                          "Flooding of the wetlands", TH_NOW - HOUR);
	assert_int_equal(th_ingest1(x->s, &e), STORE_NEW);
	th_env_free(&e);
	add(x, "da", "Flooding og wetlands", NULL, TH_NOW - 2 * HOUR);
	/* "flood" meets "Flooding" only where English stems it: the translation */
	assert_string_equal(find(x->s, "flood"), "Vådområder ved åen");
	assert_string_equal(find(x->s, "vådområde"), "Vådområder ved åen");
	assert_string_equal(find(x->s, "wetland flood"), "Vådområder ved åen");
}

static void test_store_search__language_tags_are_read_by_their_primary_subtag(void **state)
{
	struct th_fx *x = *state;
	add(x, "en-GB", "Flooding (en-GB)", NULL, TH_NOW - 4 * HOUR);
	add(x, "EN", "Flooding (EN)", NULL, TH_NOW - 3 * HOUR);
	add(x, "de", "Flooding (de)", NULL, TH_NOW - 2 * HOUR);   /* no stemmer: words as typed */
	assert_string_equal(find_newest(x->s, "flood"), "Flooding (EN) | Flooding (en-GB)");
	assert_string_equal(find_newest(x->s, "flooding"),
	                    "Flooding (de) | Flooding (EN) | Flooding (en-GB)");
}

static void test_store_search__polish_inflected_forms_meet(void **state)
{
	struct th_fx *x = *state;
	if (!have_polish_dictionary())
		skip();
	add(x, "pl", "Dane o energii", "walka z ubóstwem energetycznym", TH_NOW - 3 * HOUR);
	add(x, "pl", "Retencja wód opadowych", "łąka kwietna zamiast trawnika; na łące",
	    TH_NOW - 2 * HOUR);
	assert_string_equal(find(x->s, "ubóstwo"), "Dane o energii");
	assert_string_equal(find(x->s, "ubóstwa energetycznego"), "Dane o energii");
	assert_string_equal(find(x->s, "energetyczny"), "Dane o energii");
	assert_string_equal(find(x->s, "woda"), "Retencja wód opadowych");
	assert_string_equal(find(x->s, "łąkę"), "Retencja wód opadowych");
	assert_string_equal(find(x->s, "trawnik"), "Retencja wód opadowych");
}

static void test_store_search__the_polish_dictionary_is_loaded_only_for_polish_text(void **state)
{
	struct th_fx *x = *state;
	if (!have_polish_dictionary())
		skip();
	add(x, "da", "Vådområder", "ved åen", TH_NOW - 3 * HOUR);
	assert_string_equal(find(x->s, "łące vådområde"), "");
	assert_string_equal(find(x->s, "\"ved åen\""), "Vådområder");
	assert_false(text_stemmers_polish_loaded(x->s->stem));
	add(x, "pl", "Łąka kwietna", NULL, TH_NOW - 2 * HOUR);
	assert_true(text_stemmers_polish_loaded(x->s->stem));     /* to index it */
	/* a fresh handle on the same store: queries load it, as they need it */
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, STORE_OPEN_READONLY), 0);
	assert_false(text_stemmers_polish_loaded(x->s->stem));
	assert_string_equal(find(x->s, "łące"), "Łąka kwietna");
	assert_true(text_stemmers_polish_loaded(x->s->stem));
}

/* ------------------------------------------------------------- accents */

static void test_store_search__missing_diacritics_still_match(void **state)
{
	struct th_fx *x = *state;
	add(x, "da", "Vådområder i Sønderborg", "Æblegård", TH_NOW - 4 * HOUR);
	add(x, "pl", "ŁĄKA w mieście", "ubóstwo", TH_NOW - 3 * HOUR);
	add(x, "pl", "Miasto Poznań", NULL, TH_NOW - 2 * HOUR);
	assert_string_equal(find(x->s, "vadomrader"), "Vådområder i Sønderborg");
	assert_string_equal(find(x->s, "VADOMRADE"), "Vådområder i Sønderborg");
	assert_string_equal(find(x->s, "sonderborg"), "Vådområder i Sønderborg");
	assert_string_equal(find(x->s, "aeblegard"), "Vådområder i Sønderborg");
	assert_string_equal(find(x->s, "laka"), "ŁĄKA w mieście");
	assert_string_equal(find(x->s, "ubostwo"), "ŁĄKA w mieście");
	assert_string_equal(find(x->s, "poznan"), "Miasto Poznań");
	/* marks typed where the text has none match too */
	assert_string_equal(find(x->s, "miasto pożnań"), "Miasto Poznań");
}

static void test_store_search__exact_accents_rank_above_folded_matches(void **state)
{
	struct th_fx *x = *state;
	/* the folded spellings are newer: without the accent bonus they would
	 * tie and come first */
	add(x, "da", "Vådområder ved åen", NULL, TH_NOW - 4 * HOUR);
	add(x, "da", "Vadomrader ved aen", NULL, TH_NOW - 3 * HOUR);
	add(x, "en", "Poznań and Assen", NULL, TH_NOW - 2 * HOUR);
	add(x, "en", "Poznan and Assen", NULL, TH_NOW - 1 * HOUR);
	assert_string_equal(find(x->s, "vådområder"), "Vådområder ved åen | Vadomrader ved aen");
	assert_string_equal(find(x->s, "vådområde"), "Vådområder ved åen | Vadomrader ved aen");
	assert_string_equal(find(x->s, "poznań"), "Poznań and Assen | Poznan and Assen");
	/* typed without marks: both match, and tie (newest first) */
	assert_string_equal(find(x->s, "poznan"), "Poznan and Assen | Poznań and Assen");
	struct found fd;
	assert_int_equal(query_full(x->s, "poznan", NULL, STORE_SORT_RELEVANCE, 0, &fd), 2);
	assert_true(fabs(fd.score[0] - fd.score[1]) < 1e-12);
	assert_int_equal(query_full(x->s, "poznań", NULL, STORE_SORT_RELEVANCE, 0, &fd), 2);
	assert_true(fd.score[0] > fd.score[1]);
}

/* ------------------------------------------------------------- prefixes */

static void test_store_search__a_trailing_star_matches_every_word_it_begins(void **state)
{
	struct th_fx *x = *state;
	add(x, "da", "Vandparker i ådalene", NULL, TH_NOW - 4 * HOUR);
	add(x, "da", "Vandløb og søer", NULL, TH_NOW - 3 * HOUR);
	add(x, "da", "Parkering ved stationen", NULL, TH_NOW - 2 * HOUR);
	add(x, "da", "Vådområder", NULL, TH_NOW - 1 * HOUR);
	assert_string_equal(find(x->s, "vandpa*"), "Vandparker i ådalene");
	assert_string_equal(find_newest(x->s, "vand*"), "Vandløb og søer | Vandparker i ådalene");
	assert_string_equal(find_newest(x->s, "VAND*"), "Vandløb og søer | Vandparker i ådalene");
	/* a prefix begins a word: "park*" is not in "vandparker" */
	assert_string_equal(find(x->s, "park*"), "Parkering ved stationen");
	assert_string_equal(find(x->s, "vadomr*"), "Vådområder");
	assert_string_equal(find(x->s, "vådområder*"), "Vådområder");
	assert_string_equal(find(x->s, "vand* ådal*"), "Vandparker i ådalene");
	/* without the star, only the word itself (and its inflections) */
	assert_string_equal(find(x->s, "vand"), "");
}

static void test_store_search__a_prefix_of_too_many_words_is_refused(void **state)
{
	struct th_fx *x = *state;
	enum { N = STORE_PREFIX_MAX + 10 };
	struct th_env *e = calloc(N, sizeof *e);
	struct store_item *it = calloc(N, sizeof *it);
	char title[32];
	for (size_t i = 0; i < N; i++) {
		snprintf(title, sizeof title, "w%zu", i);
		e[i] = th_measure(&x->f1, title, NULL, TH_NOW - 10 * HOUR + i);
		it[i].env = e[i].env;
		it[i].len = e[i].len;
	}
	assert_int_equal(store_ingest(x->s, it, N, 0, TH_NOW, NULL, NULL, NULL), 0);
	struct found fd;
	assert_int_equal(query_full(x->s, "w*", NULL, STORE_SORT_NEWEST, 0, &fd), STORE_E_PREFIX);
	size_t ones = 0;
	for (size_t i = 0; i < N; i++) {
		snprintf(title, sizeof title, "%zu", i);
		ones += title[0] == '1';
	}
	assert_int_equal(query_full(x->s, "w1*", NULL, STORE_SORT_NEWEST, 0, &fd), (int)ones);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
	free(e);
	free(it);
}

/* -------------------------------------------------------------- phrases */

static void test_store_search__quotes_match_consecutive_words_of_one_field(void **state)
{
	struct th_fx *x = *state;
	add(x, "da", "Vådområder ved Haarby Å", NULL, TH_NOW - 4 * HOUR);
	add(x, "da", "Haarby", "Å og søer", TH_NOW - 3 * HOUR);           /* two fields */
	add(x, "da", "Å ved Haarby", NULL, TH_NOW - 2 * HOUR);             /* reversed */
	add(x, "da", "Haarby by og Å", NULL, TH_NOW - 1 * HOUR);           /* apart */
	/* every word is followed by the next one somewhere, never all in a row */
	add(x, "da", "Vådområder ved åen ved Haarby", NULL, TH_NOW - 5 * HOUR);
	assert_string_equal(find(x->s, "\"haarby å\""), "Vådområder ved Haarby Å");
	assert_string_equal(find_newest(x->s, "haarby å"),
	                    "Haarby by og Å | Å ved Haarby | Haarby | Vådområder ved Haarby Å");
	assert_string_equal(find(x->s, "\"vådområder ved haarby\""), "Vådområder ved Haarby Å");
	assert_string_equal(find_newest(x->s, "\"ved haarby\""),
	                    "Å ved Haarby | Vådområder ved Haarby Å | Vådområder ved åen ved Haarby");
	/* words in a phrase are stemmed and folded like any other */
	assert_string_equal(find(x->s, "\"vadomrade ved haarby a\""), "Vådområder ved Haarby Å");
	/* the last word of a phrase may be a prefix */
	assert_string_equal(find_newest(x->s, "\"ved haar*\""),
	                    "Å ved Haarby | Vådområder ved Haarby Å | Vådområder ved åen ved Haarby");
	/* a phrase and a word */
	assert_string_equal(find_newest(x->s, "\"ved haarby\" vådområde"),
	                    "Vådområder ved Haarby Å | Vådområder ved åen ved Haarby");
	/* an opening quote without its closing one runs to the end */
	assert_string_equal(find_newest(x->s, "\"ved haarby"),
	                    "Å ved Haarby | Vådområder ved Haarby Å | Vådområder ved åen ved Haarby");
	/* one word in quotes is that word */
	assert_string_equal(find_newest(x->s, "\"søer\""), "Haarby");
}

static void test_store_search__phrase_queries_keep_order_and_limit(void **state)
{
	struct th_fx *x = *state;
	enum { N = 60 };
	struct th_env e[N];
	struct store_item it[N];
	for (size_t i = 0; i < N; i++) {
		/* every record has both words; every 7th has them together */
		e[i] = th_measure(&x->f1, i % 7 ? "skov og grundvand" : "grundvand og skov",
		                  NULL, TH_NOW - 10 * HOUR + i * 1000);
		it[i].env = e[i].env;
		it[i].len = e[i].len;
	}
	assert_int_equal(store_ingest(x->s, it, N, 0, TH_NOW, NULL, NULL, NULL), 0);
	struct found fd;
	/* newest first, limit 3: the 3 newest of those with "og skov" */
	assert_int_equal(query_full(x->s, "\"og skov\"", NULL, STORE_SORT_NEWEST, 3, &fd), 3);
	size_t want[3], k = 0;
	for (size_t i = N; i-- > 0 && k < 3;)
		if (i % 7 == 0)
			want[k++] = i;
	for (size_t j = 0; j < 3; j++)
		assert_memory_equal(fd.id[j], e[want[j]].id, PROTO_ID_BYTES);
	/* ranked, no limit: exactly the 9 */
	assert_int_equal(query_full(x->s, "\"og skov\"", NULL, STORE_SORT_RELEVANCE, 0, &fd),
	                 (N + 6) / 7);
	assert_int_equal(query_full(x->s, "\"og skov\"", NULL, STORE_SORT_OLDEST, 2, &fd), 2);
	assert_memory_equal(fd.id[0], e[0].id, PROTO_ID_BYTES);
	assert_memory_equal(fd.id[1], e[7].id, PROTO_ID_BYTES);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
}

/* ------------------------------------------------------- odd query text */

static void test_store_search__odd_query_strings_are_answered(void **state)
{
	struct th_fx *x = *state;
	add(x, "da", "Vandparker", NULL, TH_NOW - HOUR);
	static const char *const odd[] = {
		"\"", "\"\"", "*", "**", "\"*\"", "a*b", "*vand", "vand**", "\"vand\"\"parker\"",
		"\xff\xfe", "vand\xc3", "\"\xe2\x82\"", "ÅÅÅ*", "    ", "\t\n",
	};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		struct found fd;
		int n = query_full(x->s, odd[i], NULL, STORE_SORT_RELEVANCE, 0, &fd);
		assert_true(n >= 0 || n == PROTO_E_ARG);
	}
	/* many words, and long words */
	char many[4096] = "";
	for (int i = 0; i < 200; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s ", i % 2 ? "vand*" : "\"x y\"");
	struct found fd;
	int n = query_full(x->s, many, NULL, STORE_SORT_RELEVANCE, 0, &fd);
	assert_true(n >= 0 || n == PROTO_E_ARG);
	char longw[300];
	memset(longw, 'a', sizeof longw - 1);
	longw[sizeof longw - 1] = 0;
	assert_int_equal(query_full(x->s, longw, NULL, STORE_SORT_RELEVANCE, 0, &fd), 0);
}

/* ----------------------------------------------------------- migration */

static char *fixture_copy(void)
{
	char *dir = th_tmpdir();
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp '%s/layout5/data.mdb' '%s/'", AGORA_FIXTURE_DIR, dir);
	assert_int_equal(system(cmd), 0);
	return dir;
}

static uint64_t layout_of(struct store *s)
{
	struct store_txn *t;
	uint64_t v = 0;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_counter_get(t->txn, s, META_VERSION, &v), 0);
	store_txn_end(t);
	return v;
}

static void test_store_open__layout_5_store_answers_as_before_then_migrates(void **state)
{
	(void)state;
	char *dir = fixture_copy();
	struct store *s;
	struct found fd;

	/* read-only: the old index, read the old way */
	assert_int_equal(store_open(&s, dir, STORE_OPEN_READONLY), 0);
	assert_int_equal(layout_of(s), 5);
	assert_string_equal(find(s, "vådområder"), "Vådområder ved Haarby Å");
	assert_string_equal(find(s, "VÅDOMRÅDER haarby"), "Vådområder ved Haarby Å");
	assert_string_equal(find(s, "vådområde"), "");          /* as before: no stemming */
	assert_string_equal(find(s, "vadomrader"), "");         /* nor folding */
	assert_string_equal(find(s, "wetlands"), "Wetlands need landowners");
	assert_string_equal(find(s, "vandparker"), "");         /* retracted */
	assert_int_equal(query_full(s, NULL, "VÅDOMRÅDER", STORE_SORT_NEWEST, 0, &fd), 1);
	assert_int_equal(query_full(s, NULL, "vadomrader", STORE_SORT_NEWEST, 0, &fd), 0);
	store_close(s);

	/* read-write: migrated to the current layout */
	assert_int_equal(store_open(&s, dir, 0), 0);
	assert_int_equal(layout_of(s), STORE_LAYOUT_VERSION);
	assert_string_equal(find(s, "vådområde"), "Vådområder ved Haarby Å");
	assert_string_equal(find(s, "vadomrader"), "Vådområder ved Haarby Å");
	assert_string_equal(find(s, "\"haarby å\""), "Vådområder ved Haarby Å");
	assert_string_equal(find(s, "wetland"), "Wetlands need landowners");
	assert_string_equal(find(s, "vandpark*"), "");          /* still retracted */
	assert_int_equal(query_full(s, NULL, "vadomrader", STORE_SORT_NEWEST, 0, &fd), 1);
	assert_int_equal(query_full(s, NULL, "Vådområder", STORE_SORT_NEWEST, 0, &fd), 1);
	if (have_polish_dictionary())
		assert_string_equal(find(s, "ubóstwo"), "Diagnoza skali ubóstwa energetycznego");

	/* the migrated index is the one a fresh store builds from the same
	 * records: same hits, same scores */
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	struct store_item it[16];
	uint8_t *copies[16];
	size_t n = 0;
	uint8_t alliance[PROTO_ID_BYTES];
	struct store_record ch;
	struct th_feed f;
	struct proto_key *k = th_key(1);
	struct th_env charter = th_charter(&f, k, "DK2020", TH_NOW - 100000);
	memcpy(alliance, f.alliance, PROTO_ID_BYTES);
	assert_int_equal(store_get(t, alliance, &ch), 0);     /* the fixture's charter */
	for (uint64_t seq = 1; n < 16; seq++) {
		struct store_record r;
		if (store_feed_get(t, alliance, k->pk, seq, &r) != 0)
			break;
		copies[n] = malloc(r.env_len);
		memcpy(copies[n], r.env, r.env_len);
		it[n].env = copies[n];
		it[n].len = r.env_len;
		n++;
	}
	store_txn_end(t);
	assert_int_equal(n, 6);
	char *dir2 = th_tmpdir();
	struct store *fresh;
	assert_int_equal(store_open(&fresh, dir2, 0), 0);
	assert_int_equal(store_ingest(fresh, it, n, STORE_INGEST_ATOMIC, TH_NOW, NULL, NULL, NULL), 0);
	static const char *const qs[] = { "vådområde", "haarby å", "wetland landowner",
	                                  "ubóstwo", "lavbund*", "\"ved haarby\"", "a" };
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		struct found a, b;
		int na = query_full(s, qs[i], NULL, STORE_SORT_RELEVANCE, 0, &a);
		int nb = query_full(fresh, qs[i], NULL, STORE_SORT_RELEVANCE, 0, &b);
		assert_int_equal(na, nb);
		assert_string_equal(a.text, b.text);
		for (int h = 0; h < na; h++)
			assert_true(fabs(a.score[h] - b.score[h]) < 1e-12);
	}
	store_close(fresh);
	th_rmdir(dir2);
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	th_env_free(&charter);
	proto_key_free(k);
	store_close(s);

	/* and read-only again: now the new layout */
	assert_int_equal(store_open(&s, dir, STORE_OPEN_READONLY), 0);
	assert_string_equal(find(s, "vådområde"), "Vådområder ved Haarby Å");
	store_close(s);
	th_rmdir(dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		T(test_store_search__danish_text_is_stemmed_as_danish_only),
		T(test_store_search__english_text_is_stemmed_as_english_only),
		T(test_store_search__dutch_text_is_stemmed_as_dutch_only),
		T(test_store_search__a_translation_is_stemmed_in_its_own_language),
		T(test_store_search__language_tags_are_read_by_their_primary_subtag),
		T(test_store_search__polish_inflected_forms_meet),
		T(test_store_search__the_polish_dictionary_is_loaded_only_for_polish_text),
		T(test_store_search__missing_diacritics_still_match),
		T(test_store_search__exact_accents_rank_above_folded_matches),
		T(test_store_search__a_trailing_star_matches_every_word_it_begins),
		T(test_store_search__a_prefix_of_too_many_words_is_refused),
		T(test_store_search__quotes_match_consecutive_words_of_one_field),
		T(test_store_search__phrase_queries_keep_order_and_limit),
		T(test_store_search__odd_query_strings_are_answered),
		cmocka_unit_test(test_store_open__layout_5_store_answers_as_before_then_migrates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
