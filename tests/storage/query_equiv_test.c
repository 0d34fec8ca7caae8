/*
 * query_equiv_test.c - store_query agrees with a brute-force scan.
 *
 * Generates 100,000 signed records (8 authors, 3 alliances, random
 * sectors, areas, hazards, statuses, years, tags and words; results and
 * lessons referring to measures; some records superseded, some retracted),
 * ingests them in batches of 1000, then runs many random filter
 * combinations and compares store_query's hits, in order, with a scan over
 * a model of the records built from the same Agora__Record values.  Text
 * queries type their words as they stand, in upper case, without their
 * marks ("vadomrade" for "vådområde"), in quotes, or as a prefix with '*'
 * (which the model matches against every vocabulary word it begins).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <cmocka.h>

#include "helper.h"

#define NREC 100000
#define NAUTH 8
#define NALL 3
#define NVOCAB 120
#define NTAGS 12
#define BATCH 1000
#define NQUERIES 400

static const char *uni_lower[] = { "vådområde", "łąka", "grøn", "żółw", "ærø", "źródło" };
static const char *uni_upper[] = { "VÅDOMRÅDE", "ŁĄKA", "GRØN", "ŻÓŁW", "ÆRØ", "ŹRÓDŁO" };
#define NUNI 6
static const char *tag_names[NTAGS] = {
	"naturbase", "klimatilpasning", "energieffektivitet", "mobilitet", "skybrud", "varme",
	"fjernvarme", "cykling", "skov", "kyst", "affald", "solenergi" };

struct mrec {
	uint8_t id[PROTO_ID_BYTES];
	uint8_t kind;           /* content kind */
	uint8_t author, alliance;
	uint16_t sectors;       /* bit per sector value */
	uint64_t areas;
	uint16_t hazards;
	uint8_t status;
	uint16_t ylo, yhi;      /* 0: no year */
	uint16_t tags;
	int32_t refers[3];
	uint64_t words[2];      /* vocab bitset */
	bool superseded, retracted;
	int32_t chain;          /* chain index, -1 for none */
};

struct chain {
	int32_t newest;
	bool retracted;
	int32_t *vers;
	size_t nvers;
	uint8_t kind;
	uint8_t author, alliance;
};

struct world {
	char vocab[NVOCAB][24];
	struct proto_key *keys[NAUTH];
	struct th_feed feeds[NALL][NAUTH];
	struct mrec *r;
	size_t n;
	struct chain *chains;
	size_t nchains;
	int32_t *measures[NALL];    /* measure record indices per alliance */
	size_t nmeasures[NALL];
	uint64_t rng;
};

static uint32_t rnd(struct world *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (uint32_t)(w->rng >> 16);
}
static uint32_t rn(struct world *w, uint32_t n) { return rnd(w) % n; }

/* A random word in random case; sets its vocab bit. */
static void add_word(struct world *w, char *buf, size_t cap, struct mrec *m)
{
	unsigned v = rn(w, NVOCAB);
	m->words[v / 64] |= 1ULL << (v % 64);
	char word[32];
	if (v < NUNI) {
		snprintf(word, sizeof word, "%s", rn(w, 2) ? uni_upper[v] : uni_lower[v]);
	} else {
		snprintf(word, sizeof word, "%s", w->vocab[v]);
		unsigned mode = rn(w, 3);
		for (char *p = word; *p; p++)
			if (mode == 1 || (mode == 2 && p == word))
				*p = (char)toupper((unsigned char)*p);
	}
	size_t l = strlen(buf);
	snprintf(buf + l, cap - l, "%s%s", l ? (rn(w, 4) ? " " : ", ") : "", word);
}

static void words(struct world *w, char *buf, size_t cap, struct mrec *m, unsigned lo, unsigned hi)
{
	buf[0] = 0;
	unsigned n = lo + rn(w, hi - lo + 1);
	for (unsigned i = 0; i < n; i++)
		add_word(w, buf, cap, m);
}

static char *tag_variant(struct world *w, unsigned t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", tag_names[t]);
	unsigned mode = rn(w, 3);
	for (char *p = buf; *p; p++)
		if (mode == 1 || (mode == 2 && p == buf))
			*p = (char)toupper((unsigned char)*p);
	return buf;
}

/* Random measure body into caller storage. */
struct measure_buf {
	Agora__Measure m;
	char title[200], summary[400];
	Agora__Area areas[3];
	Agora__Hazard hazards[2];
	char *tags[2];
	char tagbuf[2][32];
};

static void gen_measure(struct world *w, struct measure_buf *b, struct mrec *r)
{
	Agora__Measure init = AGORA__MEASURE__INIT;
	b->m = init;
	words(w, b->title, sizeof b->title, r, 2, 5);
	words(w, b->summary, sizeof b->summary, r, 3, 10);
	b->m.title = b->title;
	b->m.summary = b->summary;
	b->m.language = "da";
	b->m.has_mitigation = b->m.mitigation = 1;
	unsigned sec = rn(w, 15);
	if (sec) {
		b->m.has_sector = 1;
		b->m.sector = (Agora__Sector)sec;
		r->sectors |= (uint16_t)(1u << sec);
	}
	unsigned na = rn(w, 4);
	for (unsigned i = 0; i < na; i++) {
		unsigned a = 1 + rn(w, 34);
		bool dup = false;
		for (unsigned j = 0; j < b->m.n_areas; j++)
			dup |= b->areas[j] == (Agora__Area)a;
		if (dup)
			continue;
		b->areas[b->m.n_areas++] = (Agora__Area)a;
		r->areas |= 1ULL << a;
	}
	b->m.areas = b->areas;
	unsigned nh = rn(w, 3);
	for (unsigned i = 0; i < nh; i++) {
		unsigned h = 1 + rn(w, 13);
		bool dup = false;
		for (unsigned j = 0; j < b->m.n_hazards; j++)
			dup |= b->hazards[j] == (Agora__Hazard)h;
		if (dup)
			continue;
		b->hazards[b->m.n_hazards++] = (Agora__Hazard)h;
		r->hazards |= (uint16_t)(1u << h);
		b->m.has_adaptation = b->m.adaptation = 1;
	}
	b->m.hazards = b->hazards;
	unsigned st = rn(w, 6);
	if (st) {
		b->m.has_status = 1;
		b->m.status = (Agora__Status)st;
		r->status = (uint8_t)st;
	}
	if (rn(w, 10) < 7) {
		b->m.has_start_year = 1;
		b->m.start_year = 2000 + rn(w, 40);
		r->ylo = r->yhi = (uint16_t)b->m.start_year;
		if (rn(w, 2)) {
			b->m.has_end_year = 1;
			b->m.end_year = b->m.start_year + rn(w, 16);
			r->yhi = (uint16_t)b->m.end_year;
		}
	} else if (rn(w, 4) == 0) {
		b->m.has_end_year = 1;
		b->m.end_year = 2000 + rn(w, 50);
		r->ylo = r->yhi = (uint16_t)b->m.end_year;
	}
	unsigned nt = rn(w, 3);
	for (unsigned i = 0; i < nt; i++) {
		unsigned t = rn(w, NTAGS);
		if (r->tags & (1u << t))
			continue;
		r->tags |= (uint16_t)(1u << t);
		b->tags[b->m.n_tags] = tag_variant(w, t, b->tagbuf[b->m.n_tags], 32);
		b->m.n_tags++;
	}
	b->m.tags = b->tags;
}

struct lesson_buf {
	Agora__Lesson l;
	char title[200], worked[400];
	ProtobufCBinaryData measures[2];
	char *tags[2];
	char tagbuf[2][32];
};

static void gen_lesson(struct world *w, struct lesson_buf *b, struct mrec *r, unsigned al)
{
	Agora__Lesson init = AGORA__LESSON__INIT;
	b->l = init;
	words(w, b->title, sizeof b->title, r, 2, 5);
	words(w, b->worked, sizeof b->worked, r, 3, 10);
	b->l.title = b->title;
	b->l.worked = b->worked;
	b->l.language = "pl";
	unsigned sec = rn(w, 15);
	if (sec) {
		b->l.has_sector = 1;
		b->l.sector = (Agora__Sector)sec;
		r->sectors |= (uint16_t)(1u << sec);
	}
	if (rn(w, 2)) {
		b->l.has_year = 1;
		b->l.year = 2000 + rn(w, 40);
		r->ylo = r->yhi = (uint16_t)b->l.year;
	}
	unsigned nm = w->nmeasures[al] ? rn(w, 3) : 0;
	for (unsigned i = 0; i < nm; i++) {
		int32_t mi = w->measures[al][rn(w, (uint32_t)w->nmeasures[al])];
		bool dup = false;
		for (unsigned j = 0; j < b->l.n_measures; j++)
			dup |= r->refers[j] == mi;
		if (dup)
			continue;
		r->refers[b->l.n_measures] = mi;
		b->measures[b->l.n_measures].len = PROTO_ID_BYTES;
		b->measures[b->l.n_measures].data = w->r[mi].id;
		b->l.n_measures++;
	}
	b->l.measures = b->measures;
	unsigned nt = rn(w, 3);
	for (unsigned i = 0; i < nt; i++) {
		unsigned t = rn(w, NTAGS);
		if (r->tags & (1u << t))
			continue;
		r->tags |= (uint16_t)(1u << t);
		b->tags[b->l.n_tags] = tag_variant(w, t, b->tagbuf[b->l.n_tags], 32);
		b->l.n_tags++;
	}
	b->l.tags = b->tags;
}

static int32_t chain_new(struct world *w, int32_t root, struct mrec *r)
{
	struct chain *c = &w->chains[w->nchains];
	memset(c, 0, sizeof *c);
	c->newest = root;
	c->vers = malloc(sizeof *c->vers);
	c->vers[0] = root;
	c->nvers = 1;
	c->kind = r->kind;
	c->author = r->author;
	c->alliance = r->alliance;
	return (int32_t)w->nchains++;
}

/* Generate record i; returns its envelope. */
static struct th_env gen_one(struct world *w, uint64_t ms)
{
	size_t i = w->n;
	struct mrec *r = &w->r[i];
	memset(r, 0, sizeof *r);
	r->refers[0] = r->refers[1] = r->refers[2] = -1;
	r->chain = -1;
	unsigned al = rn(w, NALL), au = rn(w, NAUTH);
	r->alliance = (uint8_t)al;
	r->author = (uint8_t)au;
	struct th_feed *f = &w->feeds[al][au];
	Agora__Record rec = AGORA__RECORD__INIT;
	struct measure_buf mb;
	struct lesson_buf lb;
	Agora__Result res = AGORA__RESULT__INIT;
	Agora__Supersede sup = AGORA__SUPERSEDE__INIT;
	Agora__Retract ret = AGORA__RETRACT__INIT;
	char ind[200];
	unsigned dice = rn(w, 100);

	/* chains of this feed: pick one for an edit or a withdrawal */
	int32_t pick = -1;
	if (dice >= 85 && w->nchains) {
		for (int tries = 0; tries < 20 && pick < 0; tries++) {
			int32_t c = (int32_t)(w->nchains - 1 - rn(w, (uint32_t)(w->nchains < 400 ? w->nchains : 400)));
			if (w->chains[c].author == au && w->chains[c].alliance == al)
				pick = c;
		}
	}
	if (pick >= 0 && dice < 96) {
		struct chain *c = &w->chains[pick];
		int32_t target = c->vers[rn(w, (uint32_t)c->nvers)];
		sup.has_target = 1;
		sup.target.len = PROTO_ID_BYTES;
		sup.target.data = w->r[target].id;
		r->kind = c->kind;
		if (c->kind == PROTO_KIND_MEASURE) {
			gen_measure(w, &mb, r);
			sup.body_case = AGORA__SUPERSEDE__BODY_MEASURE;
			sup.measure = &mb.m;
		} else {
			gen_lesson(w, &lb, r, al);
			sup.body_case = AGORA__SUPERSEDE__BODY_LESSON;
			sup.lesson = &lb.l;
		}
		rec.body_case = AGORA__RECORD__BODY_SUPERSEDE;
		rec.supersede = &sup;
		w->r[c->newest].superseded = true;
		c->newest = (int32_t)i;
		c->vers = realloc(c->vers, (c->nvers + 1) * sizeof *c->vers);
		c->vers[c->nvers++] = (int32_t)i;
		r->chain = pick;
		r->retracted = c->retracted;
	} else if (pick >= 0) {
		struct chain *c = &w->chains[pick];
		int32_t target = c->vers[rn(w, (uint32_t)c->nvers)];
		ret.has_target = 1;
		ret.target.len = PROTO_ID_BYTES;
		ret.target.data = w->r[target].id;
		rec.body_case = AGORA__RECORD__BODY_RETRACT;
		rec.retract = &ret;
		r->kind = PROTO_KIND_RETRACT;
		c->retracted = true;
		for (size_t v = 0; v < c->nvers; v++)
			w->r[c->vers[v]].retracted = true;
	} else if (dice < 10 && w->nmeasures[al]) {
		int32_t mi = w->measures[al][rn(w, (uint32_t)w->nmeasures[al])];
		res.has_measure = 1;
		res.measure.len = PROTO_ID_BYTES;
		res.measure.data = w->r[mi].id;
		r->refers[0] = mi;
		res.has_year = 1;
		res.year = 2000 + rn(w, 40);
		r->ylo = r->yhi = (uint16_t)res.year;
		words(w, ind, sizeof ind, r, 1, 3);
		res.indicator = ind;
		res.has_value = 1;
		res.value = rn(w, 1000);
		res.unit = "t CO2e";
		rec.body_case = AGORA__RECORD__BODY_RESULT;
		rec.result = &res;
		r->kind = PROTO_KIND_RESULT;
	} else if (dice < 20) {
		gen_lesson(w, &lb, r, al);
		rec.body_case = AGORA__RECORD__BODY_LESSON;
		rec.lesson = &lb.l;
		r->kind = PROTO_KIND_LESSON;
	} else {
		gen_measure(w, &mb, r);
		rec.body_case = AGORA__RECORD__BODY_MEASURE;
		rec.measure = &mb.m;
		r->kind = PROTO_KIND_MEASURE;
	}
	struct th_env e = th_sign(f, &rec, ms);
	memcpy(r->id, e.id, PROTO_ID_BYTES);
	if (rec.body_case == AGORA__RECORD__BODY_MEASURE || rec.body_case == AGORA__RECORD__BODY_LESSON)
		r->chain = chain_new(w, (int32_t)i, r);
	if (rec.body_case == AGORA__RECORD__BODY_MEASURE) {
		w->measures[al][w->nmeasures[al]++] = (int32_t)i;
	}
	w->n++;
	return e;
}

/* ---------------------------------------------------------------- model */

struct qmodel {
	struct store_query q;
	int alliance;               /* -1 any */
	int authors[3];
	size_t nauth;
	uint16_t tag_bit;
	int measure;                /* record index or -1 */
	uint64_t qwords[2][2];      /* per query word: the vocab words it matches */
	size_t nqwords;
	char tagbuf[32], textbuf[96];
	uint8_t authkeys[3][PROTO_KEY_BYTES];
};

static bool model_match(const struct world *w, const struct qmodel *m, const struct mrec *r)
{
	const struct store_query *q = &m->q;
	if (r->retracted || (r->superseded && !q->history))
		return false;
	if (q->kind != PROTO_KIND_NONE) {
		if (r->kind != q->kind)
			return false;
	} else if ((r->kind == PROTO_KIND_CHARTER || r->kind == PROTO_KIND_RETRACT) && !q->governance) {
		return false;
	}
	if (m->alliance >= 0 && r->alliance != m->alliance)
		return false;
	if (m->nauth) {
		bool any = false;
		for (size_t i = 0; i < m->nauth; i++)
			any |= r->author == m->authors[i];
		if (!any)
			return false;
	}
	if (q->sector && !(r->sectors >> q->sector & 1))
		return false;
	if (q->area && !(r->areas >> q->area & 1))
		return false;
	if (q->hazard && !(r->hazards >> q->hazard & 1))
		return false;
	if (q->status && r->status != q->status)
		return false;
	if (q->tag && !(r->tags & m->tag_bit))
		return false;
	if (q->year_from || q->year_to) {
		unsigned lo = q->year_from, hi = q->year_to ? q->year_to : 99999;
		if (!r->ylo || r->yhi < lo || r->ylo > hi)
			return false;
	}
	if (m->measure >= 0) {
		bool any = false;
		for (int i = 0; i < 3; i++)
			any |= r->refers[i] == m->measure;
		if (!any)
			return false;
	}
	for (size_t i = 0; i < m->nqwords; i++)
		if (!(r->words[0] & m->qwords[i][0]) && !(r->words[1] & m->qwords[i][1]))
			return false;
	(void)w;
	return true;
}

static void random_query(struct world *w, struct qmodel *m)
{
	memset(m, 0, sizeof *m);
	m->alliance = -1;
	m->measure = -1;
	struct store_query *q = &m->q;
	/* keep drawing until at least one filter is set, sometimes none */
	if (rn(w, 10) < 3) {
		m->alliance = (int)rn(w, NALL);
		q->alliance = w->feeds[m->alliance][0].alliance;
	}
	if (rn(w, 10) < 3) {
		static const enum proto_kind kinds[] = { PROTO_KIND_MEASURE, PROTO_KIND_MEASURE,
		                                         PROTO_KIND_LESSON, PROTO_KIND_RESULT,
		                                         PROTO_KIND_RETRACT, PROTO_KIND_CHARTER };
		q->kind = kinds[rn(w, 6)];
	}
	if (rn(w, 10) < 3) {
		m->nauth = 1 + rn(w, 3);
		for (size_t i = 0; i < m->nauth; i++) {
			m->authors[i] = (int)rn(w, NAUTH);
			memcpy(m->authkeys[i], w->keys[m->authors[i]]->pk, PROTO_KEY_BYTES);
		}
		q->authors = (const uint8_t (*)[PROTO_KEY_BYTES])m->authkeys;
		q->n_authors = m->nauth;
	}
	if (rn(w, 4) == 0)
		q->sector = 1 + (int)rn(w, 14);
	if (rn(w, 5) == 0)
		q->area = 1 + (int)rn(w, 34);
	if (rn(w, 6) == 0)
		q->hazard = 1 + (int)rn(w, 13);
	if (rn(w, 5) == 0)
		q->status = 1 + (int)rn(w, 5);
	if (rn(w, 6) == 0) {
		unsigned t = rn(w, NTAGS);
		m->tag_bit = (uint16_t)(1u << t);
		q->tag = tag_variant(w, t, m->tagbuf, sizeof m->tagbuf);
	}
	if (rn(w, 10) < 3) {
		unsigned mode = rn(w, 3);
		if (mode != 1)
			q->year_from = 1995 + rn(w, 50);
		if (mode != 0)
			q->year_to = (q->year_from ? q->year_from : 1995) + rn(w, 20);
	}
	if (rn(w, 12) == 0) {
		unsigned al = rn(w, NALL);
		if (w->nmeasures[al]) {
			m->measure = w->measures[al][rn(w, (uint32_t)w->nmeasures[al])];
			q->measure = w->r[m->measure].id;
		}
	}
	if (rn(w, 10) < 3) {
		m->nqwords = 1 + rn(w, 2);
		m->textbuf[0] = 0;
		for (size_t i = 0; i < m->nqwords; i++) {
			unsigned v = rn(w, NVOCAB);
			memset(m->qwords[i], 0, sizeof m->qwords[i]);
			m->qwords[i][v / 64] |= 1ULL << (v % 64);
			size_t l = strlen(m->textbuf);
			char word[64];
			unsigned how = rn(w, 6);
			if (v < NUNI && how == 0) {
				/* typed without marks */
				char *f;
				size_t fl;
				assert_int_equal(store_text_fold(&f, &fl, uni_lower[v], strlen(uni_lower[v])), 0);
				snprintf(word, sizeof word, "%s", f);
				free(f);
			} else if (v >= NUNI && how == 1) {
				/* a prefix of 3 or more letters: every vocab word it begins */
				size_t pl = 3 + rn(w, (uint32_t)(strlen(w->vocab[v]) - 2));
				snprintf(word, sizeof word, "%.*s*", (int)pl, w->vocab[v]);
				for (unsigned u = NUNI; u < NVOCAB; u++)
					if (strncmp(w->vocab[u], w->vocab[v], pl) == 0)
						m->qwords[i][u / 64] |= 1ULL << (u % 64);
			} else if (how == 2) {
				snprintf(word, sizeof word, "\"%s\"", v < NUNI ? uni_lower[v] : w->vocab[v]);
			} else {
				snprintf(word, sizeof word, "%s",
				         v < NUNI ? (rn(w, 2) ? uni_upper[v] : uni_lower[v]) : w->vocab[v]);
			}
			snprintf(m->textbuf + l, sizeof m->textbuf - l, "%s%s", l ? " " : "", word);
		}
		q->text = m->textbuf;
		if (rn(w, 2))
			q->sort = STORE_SORT_RELEVANCE;
	}
	if (q->sort != STORE_SORT_RELEVANCE && rn(w, 3) == 0)
		q->sort = STORE_SORT_OLDEST;
	q->history = rn(w, 5) == 0;
	q->governance = rn(w, 10) == 0;
	if (rn(w, 3) == 0) {
		q->limit = 1 + rn(w, 25);
		q->offset = rn(w, 3) == 0 ? rn(w, 10) : 0;
	}
}

struct got {
	uint8_t (*ids)[PROTO_ID_BYTES];
	size_t n, cap;
	double last_score;
	bool score_order_ok;
};

static int got_cb(const struct store_hit *h, void *ctx)
{
	struct got *g = ctx;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 1024;
		g->ids = realloc(g->ids, g->cap * PROTO_ID_BYTES);
	}
	if (g->n > 0 && h->score > g->last_score + 1e-9)
		g->score_order_ok = false;
	g->last_score = h->score;
	memcpy(g->ids[g->n++], h->rec.id, PROTO_ID_BYTES);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, PROTO_ID_BYTES);
}

static struct world *W;

static void test_store_query__matches_brute_force_scan(void **state)
{
	(void)state;
	struct world *w = W;
	char *dir = th_tmpdir();
	struct store *s;
	assert_int_equal(store_open(&s, dir, 0), 0);

	/* charters, then members' first records */
	struct th_env ch[NALL];
	struct store_item items[BATCH];
	int status[BATCH];
	for (unsigned a = 0; a < NALL; a++) {
		struct mrec *r = &w->r[w->n];
		memset(r, 0, sizeof *r);
		r->refers[0] = r->refers[1] = r->refers[2] = -1;
		r->chain = -1;
		r->kind = PROTO_KIND_CHARTER;
		r->author = (uint8_t)a;
		r->alliance = (uint8_t)a;
		char name[120] = "";
		words(w, name, sizeof name, r, 1, 3);
		ch[a] = th_charter(&w->feeds[a][a], w->keys[a], name, TH_NOW - 300000000 + a);
		memcpy(r->id, ch[a].id, PROTO_ID_BYTES);
		w->n++;
		for (unsigned k = 0; k < NAUTH; k++)
			if (k != a)
				th_feed_init(&w->feeds[a][k], w->keys[k], ch[a].id);
		items[a] = (struct store_item){ ch[a].env, ch[a].len };
	}
	assert_int_equal(store_ingest(s, items, NALL, 0, TH_NOW, status, NULL, NULL), 0);
	for (unsigned a = 0; a < NALL; a++) {
		assert_int_equal(status[a], STORE_NEW);
		th_env_free(&ch[a]);
	}

	uint64_t ms = TH_NOW - 200000000;
	struct th_env envs[BATCH];
	while (w->n < NREC) {
		size_t nb = NREC - w->n < BATCH ? NREC - w->n : BATCH;
		for (size_t i = 0; i < nb; i++) {
			envs[i] = gen_one(w, ms);
			ms += 1000 + rn(w, 1000);
			items[i] = (struct store_item){ envs[i].env, envs[i].len };
		}
		struct store_ingest_stats st;
		assert_int_equal(store_ingest(s, items, nb, 0, TH_NOW, status, NULL, &st), 0);
		if (st.added != nb) {
			for (size_t i = 0; i < nb; i++)
				if (status[i] != STORE_NEW)
					fprintf(stderr, "item %zu (record %zu): %s\n", i, w->n - nb + i,
					        store_strerror(status[i]));
		}
		assert_int_equal(st.added, nb);
		for (size_t i = 0; i < nb; i++)
			th_env_free(&envs[i]);
	}

	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	struct store_stats sst;
	assert_int_equal(store_stats(t, &sst), 0);
	assert_int_equal(sst.records, NREC);
	uint8_t (*want)[PROTO_ID_BYTES] = malloc((size_t)NREC * PROTO_ID_BYTES);
	size_t nonempty = 0, superseded_seen = 0;
	for (int qi = 0; qi < NQUERIES; qi++) {
		struct qmodel m;
		random_query(w, &m);
		const struct store_query *q = &m.q;
		size_t nw = 0;
		bool oldest = q->sort == STORE_SORT_OLDEST;
		for (size_t k = 0; k < w->n; k++) {
			size_t i = oldest ? k : w->n - 1 - k;
			if (model_match(w, &m, &w->r[i])) {
				memcpy(want[nw++], w->r[i].id, PROTO_ID_BYTES);
				superseded_seen += w->r[i].superseded;
			}
		}
		struct got g = { .score_order_ok = true };
		size_t total = 0;
		int rc = store_query(t, q, got_cb, &g, &total);
		assert_true(rc >= 0);
		assert_int_equal((size_t)rc, g.n);
		bool relevance = q->sort == STORE_SORT_RELEVANCE && q->text;
		size_t from = q->offset < nw ? q->offset : nw;
		size_t to = q->limit && from + q->limit < nw ? from + q->limit : nw;
		if (g.n != to - from)
			fprintf(stderr, "query %d: got %zu want %zu (matches %zu)\n", qi, g.n,
			        to - from, nw);
		assert_int_equal(g.n, to - from);
		if (total != SIZE_MAX)
			assert_int_equal(total, nw);
		if (relevance) {
			assert_true(g.score_order_ok);
			if (!q->limit) {
				if (g.n)
					qsort(g.ids, g.n, PROTO_ID_BYTES, cmp_id);
				if (nw)
					qsort(want, nw, PROTO_ID_BYTES, cmp_id);
				if (g.n)
					assert_memory_equal(g.ids, want, g.n * PROTO_ID_BYTES);
			}
		} else if (g.n) {
			assert_memory_equal(g.ids, want[from], g.n * PROTO_ID_BYTES);
		}
		nonempty += nw > 0;
		free(g.ids);
	}
	store_txn_end(t);
	/* the comparison is only worth something if queries find things */
	assert_true(nonempty > NQUERIES / 3);
	assert_true(superseded_seen > 0);
	printf("query equivalence: %d queries, %zu with matches, store map %llu MiB\n", NQUERIES,
	       nonempty, (unsigned long long)(sst.map_used >> 20));
	free(want);
	store_close(s);
	th_rmdir(dir);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	static struct world world;
	W = &world;
	world.rng = 0x9e3779b97f4a7c15ULL;
	for (unsigned v = 0; v < NVOCAB; v++) {
		if (v < NUNI)
			snprintf(world.vocab[v], sizeof world.vocab[v], "%s", uni_lower[v]);
		else
			snprintf(world.vocab[v], sizeof world.vocab[v], "%c%c%s%u",
			         'a' + v % 26, 'a' + (v / 26) % 26, "word", v);
	}
	for (unsigned k = 0; k < NAUTH; k++)
		world.keys[k] = th_key(100 + k);
	world.r = calloc(NREC, sizeof *world.r);
	world.chains = calloc(NREC, sizeof *world.chains);
	for (unsigned a = 0; a < NALL; a++)
		world.measures[a] = calloc(NREC, sizeof(int32_t));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_query__matches_brute_force_scan),
	};
	int rc = cmocka_run_group_tests_name("storage query equivalence", tests, NULL, NULL);
	for (size_t c = 0; c < world.nchains; c++)
		free(world.chains[c].vers);
	free(world.chains);
	free(world.r);
	for (unsigned a = 0; a < NALL; a++)
		free(world.measures[a]);
	for (unsigned k = 0; k < NAUTH; k++)
		proto_key_free(world.keys[k]);
	return rc;
}
