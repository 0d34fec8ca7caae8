/*
 * sync_example_test.c - the worked examples of proto/PROTOCOL.md sections
 * 4.7 and 4.8, read from the document itself: its inputs (keys, names, alliance,
 * heads, envelope) and every message of each case.  Two engines run on
 * those inputs; each must send exactly the document's messages, in the
 * document's order per direction.  So the example and the code cannot
 * drift apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/engine/sync.h"

#define MAXMSG 16
#define MAXBYTES 4096

struct msg {
	int dir;                 /* 0: A->B, 1: B->A */
	char type[16];
	size_t declared, len;
	uint8_t b[MAXBYTES];
};

struct doc {
	uint8_t key[2][32], alliance[32], env[64];
	char name[2][128];
	size_t env_len;
	struct sync_head a_heads[8], b_heads[3][8];   /* b_heads[case] */
	size_t n_a, n_b[3];
	struct msg msgs[4][MAXMSG];                    /* msgs[case]; 3: section 4.8 */
	size_t n_msgs[4];
};

/* ------------------------------------------------------------ parsing */

static char *read_doc(void)
{
	FILE *f = fopen(AGORA_PROTOCOL_MD, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One token of hex: "0a20", or "aa×32".  Appends to out; false if the
 * token is not hex (then nothing is appended). */
static bool hex_token(const char *t, size_t n, uint8_t *out, size_t *len, size_t cap)
{
	const char *times = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)t[i] == 0xc3 && (unsigned char)t[i + 1] == 0x97)
			times = t + i;
	if (times) {
		if (times - t != 2 || hexval(t[0]) < 0 || hexval(t[1]) < 0)
			return false;
		size_t rep = 0;
		for (const char *p = times + 2; p < t + n; p++) {
			if (*p < '0' || *p > '9')
				return false;
			rep = rep * 10 + (size_t)(*p - '0');
		}
		assert_true(*len + rep <= cap);
		memset(out + *len, hexval(t[0]) << 4 | hexval(t[1]), rep);
		*len += rep;
		return true;
	}
	if (n == 0 || n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hexval(t[i]) < 0)
			return false;
	assert_true(*len + n / 2 <= cap);
	for (size_t i = 0; i < n; i += 2)
		out[(*len)++] = (uint8_t)(hexval(t[i]) << 4 | hexval(t[i + 1]));
	return true;
}

/* The hex at the start of a line (tokens one space apart, up to two spaces
 * or the end); the rest is comment. */
static void hex_line(const char *l, uint8_t *out, size_t *len, size_t cap)
{
	while (*l == ' ')
		l++;
	while (*l && *l != '\n') {
		size_t n = 0;
		while (l[n] && l[n] != ' ' && l[n] != '\n')
			n++;
		if (!hex_token(l, n, out, len, cap))
			return;
		l += n;
		if (*l != ' ' || l[1] == ' ')
			return;
		l++;
	}
}

/* "author seq id" of an input line into h. */
static void head_value(const char *v, struct sync_head *h)
{
	uint8_t buf[80];
	size_t len = 0;
	char seq[24] = "";
	const char *sp1 = strchr(v, ' ');
	assert_non_null(sp1);
	assert_true(hex_token(v, (size_t)(sp1 - v), buf, &len, sizeof(buf)));
	assert_int_equal(len, 32);
	memset(h, 0, sizeof(*h));
	memcpy(h->author, buf, 32);
	const char *sp2 = strchr(sp1 + 1, ' ');
	assert_non_null(sp2);
	assert_true((size_t)(sp2 - sp1) < sizeof(seq));
	memcpy(seq, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	h->seq = strtoull(seq, NULL, 10);
	assert_true(h->seq > 0);
	len = 0;
	size_t n = 0;
	while (sp2[1 + n] && sp2[1 + n] != ' ' && sp2[1 + n] != '\n')
		n++;
	assert_true(hex_token(sp2 + 1, n, buf, &len, sizeof(buf)));
	assert_int_equal(len, 32);
	memcpy(h->id, buf, 32);
}

static void input_line(struct doc *d, const char *l)
{
	char key[32];
	const char *eq = strstr(l, " = ");
	size_t k = 0;
	uint8_t buf[64];
	size_t len = 0;
	if (!eq)
		return;
	while (*l == ' ')
		l++;
	while (l + k < eq && l[k] != ' ' && k < sizeof(key) - 1) {
		key[k] = l[k];
		k++;
	}
	key[k] = '\0';
	const char *v = eq + 3;
	size_t vn = 0;   /* the value: up to two spaces or the end of the line */
	while (v[vn] && v[vn] != '\n' && !(v[vn] == ' ' && v[vn + 1] == ' '))
		vn++;
	char val[128];
	assert_true(vn < sizeof(val));
	memcpy(val, v, vn);
	val[vn] = '\0';
	if (!strcmp(key, "A.key") || !strcmp(key, "B.key")) {
		assert_true(hex_token(val, vn, buf, &len, sizeof(buf)) && len == 32);
		memcpy(d->key[key[0] == 'B'], buf, 32);
	} else if (!strcmp(key, "A.name") || !strcmp(key, "B.name")) {
		snprintf(d->name[key[0] == 'B'], sizeof(d->name[0]), "%s", val);
	} else if (!strcmp(key, "alliance")) {
		assert_true(hex_token(val, vn, buf, &len, sizeof(buf)) && len == 32);
		memcpy(d->alliance, buf, 32);
	} else if (!strcmp(key, "envelope")) {
		assert_true(hex_token(val, vn, d->env, &d->env_len, sizeof(d->env)));
	} else if (!strcmp(key, "A.head")) {
		assert_true(d->n_a < 8);
		head_value(val, &d->a_heads[d->n_a++]);
	} else if (!strncmp(key, "case", 4) && !strcmp(key + 5, ".B.head")) {
		int c = key[4] - '0';
		assert_true(c >= 1 && c <= 2 && d->n_b[c] < 8);
		head_value(val, &d->b_heads[c][d->n_b[c]++]);
	} else {
		fail_msg("unknown input %s", key);
	}
}

static void message_block(struct doc *d, int c, const char *p, const char *end)
{
	struct msg *m = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		const char *l = p;
		while (*l == ' ')
			l++;
		if (!strncmp(l, "A->B ", 5) || !strncmp(l, "B->A ", 5)) {
			assert_true(d->n_msgs[c] < MAXMSG);
			m = &d->msgs[c][d->n_msgs[c]++];
			memset(m, 0, sizeof(*m));
			m->dir = l[0] == 'B';
			unsigned long n = 0;
			assert_int_equal(sscanf(l + 5, "%15s (%lu bytes)", m->type, &n), 2);
			m->declared = n;
		} else if (m) {
			hex_line(p, m->b, &m->len, sizeof(m->b));
		}
		p = nl + 1;
	}
}

static void parse(struct doc *d)
{
	char *s = read_doc();
	char *sec = strstr(s, "\n### 4.7 ");
	assert_non_null(sec);
	char *end = strstr(sec + 1, "\n### ");
	assert_non_null(end);
	int c = 0, blocks = 0;
	memset(d, 0, sizeof(*d));
	/* Section 4.8's example (after case 1). */
	char *gossip = strstr(s, "\n### 4.8 ");
	assert_non_null(gossip);
	char *gend = strstr(gossip + 1, "\n## ");
	assert_non_null(gend);
	/* its example block starts at its first message */
	char *gbody = strstr(gossip, "\nB->A Prune ");
	assert_true(gbody && gbody < gend);
	gbody++;
	char *gclose = strstr(gbody, "\n```");
	assert_non_null(gclose);
	message_block(d, 3, gbody, gclose + 1);
	for (char *p = sec; p < end;) {
		char *nl = strchr(p, '\n');
		if (!nl || nl > end)
			break;
		if (!strncmp(nl + 1, "**Case ", 7))
			c = nl[8] - '0';
		if (!strncmp(nl + 1, "```", 3)) {
			char *body = strchr(nl + 1, '\n') + 1;
			char *close = strstr(body, "\n```");
			assert_non_null(close);
			if (blocks++ == 0) {
				for (char *l = body; l < close;) {
					input_line(d, l);
					l = strchr(l, '\n') + 1;
				}
			} else {
				assert_true(c >= 1 && c <= 2);
				message_block(d, c, body, close + 1);
			}
			p = close + 4;
			continue;
		}
		p = nl + 1;
	}
	free(s);
	assert_int_equal(d->n_a, 3);
	assert_true(d->env_len > 0);
	assert_true(d->n_msgs[1] >= 4 && d->n_msgs[2] >= 4 && d->n_msgs[3] == 4);
}

/* ---------------------------------------------------------- running */

struct side {
	struct sync s;
	struct sync_local local;
	struct sync_lvec lv;
	struct side *other;
	struct doc *d;
	struct msg sent[MAXMSG];
	size_t n_sent;
	uint8_t *q[MAXMSG * 2];
	size_t ql[MAXMSG * 2], qh, qt;
};

static int io_send(void *ctx, const uint8_t *m, size_t len)
{
	struct side *me = ctx, *o = me->other;
	assert_true(me->n_sent < MAXMSG && len <= MAXBYTES);
	memcpy(me->sent[me->n_sent].b, m, len);
	me->sent[me->n_sent++].len = len;
	o->q[o->qt] = malloc(len + 1);
	memcpy(o->q[o->qt], m, len);
	o->ql[o->qt++] = len;
	return 0;
}

static int io_read(void *ctx, const uint8_t a[32], const uint8_t au[32], uint64_t seq,
                   const uint8_t **env, size_t *len)
{
	struct side *me = ctx;
	(void)a;
	(void)au;
	(void)seq;
	*env = me->d->env;
	*len = me->d->env_len;
	return 0;
}

static int io_records(void *ctx, const uint8_t a[32], const uint8_t au[32], uint64_t first,
                      const uint8_t *const *envs, const size_t *lens, size_t n)
{
	(void)ctx; (void)a; (void)au; (void)first; (void)envs; (void)lens; (void)n;
	return 0;
}

/* Deliver and produce until both sides are quiet. */
static void pump(struct side *A, struct side *B, uint64_t now)
{
	for (int moved = 1; moved;) {
		moved = 0;
		for (struct side *x = A; x; x = x == A ? B : NULL) {
			if (x->qh < x->qt) {
				assert_int_equal(sync_receive(&x->s, x->q[x->qh], x->ql[x->qh], now), 0);
				free(x->q[x->qh++]);
				moved = 1;
			}
			if (sync_pending(&x->s)) {
				assert_int_equal(sync_produce(&x->s, 1 << 20, NULL), 0);
				moved = 1;
			}
		}
	}
}

/* The document's messages of case c, direction by direction, in order,
 * against what each side sent from sent[from[dir]] on. */
static void compare(struct doc *d, int c, struct side *A, struct side *B, const size_t from[2])
{
	for (int dir = 0; dir < 2; dir++) {
		struct side *x = dir ? B : A;
		size_t k = from[dir];
		for (size_t i = 0; i < d->n_msgs[c]; i++) {
			const struct msg *m = &d->msgs[c][i];
			if (m->dir != dir)
				continue;
			print_message("case %d %s %s: %zu bytes\n", c, dir ? "B->A" : "A->B", m->type,
			              m->len);
			assert_int_equal(m->len, m->declared);
			assert_true(k < x->n_sent);
			assert_int_equal(x->sent[k].len, m->len);
			assert_memory_equal(x->sent[k].b, m->b, m->len);
			k++;
		}
		assert_int_equal(k, x->n_sent);
	}
}

static void run_case(struct doc *d, int c)
{
	struct sync_head a_heads[8];
	int doc_case = c == 3 ? 1 : c;   /* 4.8's example starts from case 1 */
	struct side *A = calloc(1, sizeof(*A)), *B = calloc(1, sizeof(*B));
	struct sync_io ia = { .ctx = A, .send = io_send, .read = io_read, .records = io_records };
	struct sync_io ib = { .ctx = B, .send = io_send, .read = io_read, .records = io_records };
	A->other = B;
	B->other = A;
	A->d = B->d = d;
	memcpy(A->lv.alliance, d->alliance, 32);
	memcpy(B->lv.alliance, d->alliance, 32);
	memcpy(a_heads, d->a_heads, sizeof(a_heads));
	A->lv.heads = a_heads;
	A->lv.n = d->n_a;
	A->lv.cap = 8;
	B->lv.heads = d->b_heads[doc_case];
	B->lv.n = d->n_b[doc_case];
	A->local.v = &A->lv;
	B->local.v = &B->lv;
	A->local.n = B->local.n = 1;
	assert_int_equal(sync_init(&A->s, SYNC_INITIATOR, d->key[0], d->name[0], d->key[1],
	                           &A->local, &ia), 0);
	assert_int_equal(sync_init(&B->s, 0, d->key[1], d->name[1], d->key[0], &B->local, &ib), 0);
	assert_int_equal(sync_start(&A->s), 0);
	assert_int_equal(sync_start(&B->s), 0);
	pump(A, B, 1);
	size_t from[2] = { 0, 0 };
	if (c == 3) {
		/* Section 4.8: B held a push whole and prunes; A's head of the
		 * first feed moves to 2 and is announced; B grafts it when due. */
		struct sync_feed_ref ref;
		uint8_t id[32];
		from[0] = A->n_sent;
		from[1] = B->n_sent;
		assert_int_equal(sync_duplicate(&B->s, d->alliance, 1), 0);
		pump(A, B, 1);
		memset(id, 0xc3, 32);
		memcpy(ref.alliance, d->alliance, 32);
		memcpy(ref.author, d->a_heads[0].author, 32);
		ref.was = d->a_heads[0].seq;
		assert_int_equal(sync_lvec_set(&A->lv, d->a_heads[0].author, 2, id), 0);
		assert_int_equal(sync_feeds_changed(&A->s, &ref, 1, 2), 0);
		pump(A, B, 2);
		assert_int_equal(sync_timeout(&B->s, 2 + SYNC_GRAFT_MS), 1);
		pump(A, B, 2 + SYNC_GRAFT_MS);
	}
	compare(d, c, A, B, from);
	assert_true(sync_live(&A->s) && sync_live(&B->s));
	sync_dispose(&A->s);
	sync_dispose(&B->s);
	if (A->lv.heads != a_heads)
		free(A->lv.heads);
	free(A);
	free(B);
}

static void test_sync_example__section_4_7_case_1_in_sync(void **state)
{
	struct doc *d = malloc(sizeof(*d));
	(void)state;
	parse(d);
	run_case(d, 1);
	free(d);
}

static void test_sync_example__section_4_7_case_2_one_feed_missing(void **state)
{
	struct doc *d = malloc(sizeof(*d));
	(void)state;
	parse(d);
	run_case(d, 2);
	free(d);
}

static void test_sync_example__section_4_8_prune_have_graft(void **state)
{
	struct doc *d = malloc(sizeof(*d));
	(void)state;
	parse(d);
	run_case(d, 3);
	free(d);
}

/* The digest the example's comment works out, from its inputs. */
static void test_sync_example__root_digest_is_blake2b_of_the_heads(void **state)
{
	struct doc *d = malloc(sizeof(*d));
	uint8_t dig[32];
	(void)state;
	parse(d);
	sync_digest(dig, d->a_heads, d->n_a);
	const struct msg *m = &d->msgs[1][2];   /* A->B Digest */
	assert_string_equal(m->type, "Digest");
	assert_memory_equal(m->b + 2 + 34 + 2 + 6, dig, 32);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_example__section_4_7_case_1_in_sync),
		cmocka_unit_test(test_sync_example__section_4_7_case_2_one_feed_missing),
		cmocka_unit_test(test_sync_example__section_4_8_prune_have_graft),
		cmocka_unit_test(test_sync_example__root_digest_is_blake2b_of_the_heads),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
