/*
 * sync_gossip_test.c - eager and lazy push (node/engine/sync_gossip.c,
 * PROTOCOL.md 4.8): the rules of Have, Prune and Graft on a pair of
 * engines back to back (sync_fake.c), then whole networks of engines on a
 * simulated clock (sync_net.c) that count the copies of each record each
 * node receives.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/engine/sync.h"
#include "sync_fake.h"
#include "sync_net.h"
#include "wire.pb-c.h"

static const uint8_t ALLIANCE[32] = { 0xa1, 0x1a };
static const uint8_t OTHER[32] = { 0xb2, 0x2b };

/* ------------------------------------------------------------ helpers */

/* a dialed b, both of protocol version 3 (v1: b's Hello offers version 1
 * only), each holding feeds 0..3 at seq 3, exchanges over. */
static void pair_up(struct pair *p, struct fake *a, struct fake *b, bool v1)
{
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	a->hello_v1 = b->hello_v1 = v1;
	for (unsigned i = 0; i < 4; i++) {
		give(a, i, 3);
		give(b, i, 3);
	}
	assert_int_equal(fake_connect(p, a, b, 0), 0);
	assert_int_equal(fake_pump(p), 0);
	assert_int_equal(sync_version(&a->sync), v1 ? 1 : SYNC_VERSION_MAX);
}

static void pair_down(struct pair *p, struct fake *a, struct fake *b)
{
	fake_disconnect(p);
	fake_free(a);
	fake_free(b);
}

/* f's feed of author i grows to seq n; its engine is told (now_ms). */
static void publish(struct fake *f, unsigned i, uint64_t n, uint64_t now_ms)
{
	struct sync_feed_ref ref;
	uint8_t au[32];
	author_of(au, i);
	fake_ref(f, &ref, au);
	give(f, i, n);
	rebuild(f);
	assert_int_equal(sync_feeds_changed(&f->sync, &ref, 1, now_ms), 0);
}

static size_t q_len(const struct msgq *q)
{
	return q->tail - q->head;
}

/* The message types in q, in order, as their Message field numbers. */
static unsigned q_type(const struct msgq *q, size_t i)
{
	Agora__Wire__Message *m = q_msg(q, i);
	assert_non_null(m);
	unsigned t = m->msg_case;
	agora__wire__message__free_unpacked(m, NULL);
	return t;
}

/* A Have (graft false) or Graft of alliance with entries (author number,
 * seq) given as pairs in `list`, n of them, delivered to e. */
static int send_gossip(struct sync *e, bool graft, const uint8_t alliance[32],
                       const uint64_t (*list)[2], size_t n)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Have h = AGORA__WIRE__HAVE__INIT;
	Agora__Wire__Graft g = AGORA__WIRE__GRAFT__INIT;
	Agora__Wire__Entry *ents = calloc(n ? n : 1, sizeof(*ents));
	Agora__Wire__Entry **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	uint8_t (*keys)[32] = calloc(n ? n : 1, 32);
	assert_non_null(ents);
	assert_non_null(ptrs);
	assert_non_null(keys);
	for (size_t i = 0; i < n; i++) {
		agora__wire__entry__init(&ents[i]);
		author_of(keys[i], (unsigned)list[i][0]);
		ents[i].has_author = ents[i].has_seq = true;
		ents[i].author.data = keys[i];
		ents[i].author.len = 32;
		ents[i].seq = list[i][1];
		ptrs[i] = &ents[i];
	}
	if (graft) {
		g.has_alliance = true;
		g.alliance.data = (uint8_t *)alliance;
		g.alliance.len = 32;
		g.n_entries = n;
		g.entries = ptrs;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_GRAFT;
		m.graft = &g;
	} else {
		h.has_alliance = true;
		h.alliance.data = (uint8_t *)alliance;
		h.alliance.len = 32;
		h.n_entries = n;
		h.entries = ptrs;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_HAVE;
		m.have = &h;
	}
	int rc = deliver(e, &m);
	free(ents);
	free(ptrs);
	free(keys);
	return rc;
}

/* Entries (author number i, seq) sorted by author key: author_of's keys
 * are not in number order, so sort the numbers by their keys. */
static int by_key(const void *x, const void *y)
{
	uint8_t kx[32], ky[32];
	author_of(kx, (unsigned)((const uint64_t *)x)[0]);
	author_of(ky, (unsigned)((const uint64_t *)y)[0]);
	return memcmp(kx, ky, 32);
}

/* --------------------------------------------------- wire validation */

static void test_sync_gossip__have_entries_out_of_order_are_a_protocol_violation(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t list[2][2] = { { 0, 5 }, { 1, 5 } };
	(void)state;
	qsort(list, 2, sizeof(list[0]), by_key);
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, ALLIANCE, (const uint64_t (*)[2])list, 2), 0);
	pair_down(&p, a, b);

	uint64_t swapped[2][2] = { { list[1][0], 5 }, { list[0][0], 5 } };
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, ALLIANCE, (const uint64_t (*)[2])swapped, 2),
	                 SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&b->sync), "Have entries not strictly increasing");
	pair_down(&p, a, b);

	uint64_t twice[2][2] = { { 0, 5 }, { 0, 6 } };
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, true, ALLIANCE, (const uint64_t (*)[2])twice, 2),
	                 SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&b->sync), "Graft entries not strictly increasing");
	pair_down(&p, a, b);
	free(a);
	free(b);
}

static void test_sync_gossip__have_of_seq_0_or_none_is_a_protocol_violation(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t zero[1][2] = { { 0, 0 } };
	(void)state;
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, ALLIANCE, (const uint64_t (*)[2])zero, 1),
	                 SYNC_E_PROTOCOL);
	pair_down(&p, a, b);
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, ALLIANCE, NULL, 0), SYNC_E_PROTOCOL);
	pair_down(&p, a, b);
	/* A Graft's seq 0 says "I hold none of it": fine, and so is no entry. */
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, true, ALLIANCE, (const uint64_t (*)[2])zero, 1), 0);
	assert_int_equal(send_gossip(&b->sync, true, ALLIANCE, NULL, 0), 0);
	pair_down(&p, a, b);
	free(a);
	free(b);
}

static void test_sync_gossip__have_over_1024_entries_is_refused(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t (*list)[2] = calloc(SYNC_GOSSIP_ENTRIES_MAX + 1, sizeof(*list));
	(void)state;
	assert_non_null(list);
	for (size_t i = 0; i <= SYNC_GOSSIP_ENTRIES_MAX; i++) {
		list[i][0] = i;
		list[i][1] = 1;
	}
	qsort(list, SYNC_GOSSIP_ENTRIES_MAX + 1, sizeof(list[0]), by_key);
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, ALLIANCE, (const uint64_t (*)[2])list,
	                             SYNC_GOSSIP_ENTRIES_MAX), 0);
	pair_down(&p, a, b);
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, ALLIANCE, (const uint64_t (*)[2])list,
	                             SYNC_GOSSIP_ENTRIES_MAX + 1), SYNC_E_LIMIT);
	pair_down(&p, a, b);
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, true, ALLIANCE, (const uint64_t (*)[2])list,
	                             SYNC_GOSSIP_ENTRIES_MAX + 1), SYNC_E_LIMIT);
	pair_down(&p, a, b);
	free(list);
	free(a);
	free(b);
}

static void test_sync_gossip__an_alliance_the_session_never_carried_is_a_protocol_violation(
	void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t one[1][2] = { { 0, 5 } };
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Prune pr = AGORA__WIRE__PRUNE__INIT;
	(void)state;
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, false, OTHER, (const uint64_t (*)[2])one, 1),
	                 SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&b->sync), "Have names an alliance this session does not carry");
	pair_down(&p, a, b);
	pair_up(&p, a, b, false);
	assert_int_equal(send_gossip(&b->sync, true, OTHER, (const uint64_t (*)[2])one, 1),
	                 SYNC_E_PROTOCOL);
	pair_down(&p, a, b);
	pair_up(&p, a, b, false);
	pr.has_alliance = true;
	pr.alliance.data = (uint8_t *)OTHER;
	pr.alliance.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PRUNE;
	m.prune = &pr;
	assert_int_equal(deliver(&b->sync, &m), SYNC_E_PROTOCOL);
	pair_down(&p, a, b);
	pair_up(&p, a, b, false);
	pr.has_alliance = false;
	assert_int_equal(deliver(&b->sync, &m), SYNC_E_PROTOCOL);   /* no alliance at all */
	pair_down(&p, a, b);
	free(a);
	free(b);
}

/* Version 1 knows no such messages: it closes on them, and never sends
 * one (sync_duplicate does nothing there). */
static void test_sync_gossip__version_1_session_closes_on_them_and_never_prunes(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t one[1][2] = { { 0, 5 } };
	(void)state;
	pair_up(&p, a, b, true);
	size_t before = q_len(p.ab);
	assert_int_equal(sync_duplicate(&a->sync, ALLIANCE, 1000), 0);
	assert_int_equal(q_len(p.ab), before);
	assert_false(sync_lazy(&a->sync, ALLIANCE));
	assert_int_equal(send_gossip(&a->sync, false, ALLIANCE, (const uint64_t (*)[2])one, 1),
	                 SYNC_E_PROTOCOL);
	pair_down(&p, a, b);
	free(a);
	free(b);
}

/* ------------------------------------------------ the lazy way, by hand */

static void test_sync_gossip__pruned_session_announces_and_a_graft_after_the_delay_streams(
	void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	pair_up(&p, a, b, false);
	/* b was sent only records it held: it prunes the session. */
	assert_int_equal(sync_duplicate(&b->sync, ALLIANCE, 1000), 0);
	assert_int_equal(q_len(p.ba), 1);
	assert_int_equal(q_type(p.ba, 0), AGORA__WIRE__MESSAGE__MSG_PRUNE);
	assert_true(sync_lazy(&b->sync, ALLIANCE));
	assert_int_equal(sync_duplicate(&b->sync, ALLIANCE, 1001), 0);   /* once */
	assert_int_equal(q_len(p.ba), 1);
	assert_int_equal(fake_pump(&p), 0);
	assert_true(sync_lazy(&a->sync, ALLIANCE));

	/* a's new record is announced, not pushed. */
	publish(a, 2, 4, 1000);
	assert_int_equal(fake_pump(&p), 0);
	assert_int_equal(a->type_count[AGORA__WIRE__MESSAGE__MSG_HAVE], 1);
	assert_int_equal(a->records_sent, 0);
	assert_int_equal(sync_next_deadline(&b->sync), 1000 + SYNC_GRAFT_MS);
	/* Not due yet: nothing. */
	assert_int_equal(sync_timeout(&b->sync, 1000 + SYNC_GRAFT_MS - 1), 0);
	assert_int_equal(q_len(p.ba), 0);
	/* Due: b grafts the feed from its own head, a streams it. */
	assert_int_equal(sync_timeout(&b->sync, 1000 + SYNC_GRAFT_MS), 1);
	assert_int_equal(q_len(p.ba), 1);
	Agora__Wire__Message *m = q_msg(p.ba, 0);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_GRAFT);
	assert_int_equal(m->graft->n_entries, 1);
	assert_int_equal(m->graft->entries[0]->seq, 3);
	agora__wire__message__free_unpacked(m, NULL);
	assert_false(sync_lazy(&b->sync, ALLIANCE));
	assert_int_equal(sync_next_deadline(&b->sync), UINT64_MAX);
	assert_int_equal(fake_pump(&p), 0);
	assert_int_equal(a->records_sent, 1);
	assert_false(sync_lazy(&a->sync, ALLIANCE));
	assert_same(a, b);
	/* Eager again: the next record is pushed. */
	publish(a, 1, 4, 2000);
	assert_int_equal(fake_pump(&p), 0);
	assert_int_equal(a->records_sent, 2);
	assert_same(a, b);
	pair_down(&p, a, b);
	free(a);
	free(b);
}

static void test_sync_gossip__announced_record_that_arrives_otherwise_is_not_grafted(
	void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	pair_up(&p, a, b, false);
	assert_int_equal(sync_duplicate(&b->sync, ALLIANCE, 1000), 0);
	assert_int_equal(fake_pump(&p), 0);
	publish(a, 2, 4, 1000);
	assert_int_equal(sync_produce(&a->sync, 1 << 20, NULL), 0);
	assert_int_equal(fake_step(&p, b), 0);   /* the Have */
	assert_int_equal(sync_next_deadline(&b->sync), 1000 + SYNC_GRAFT_MS);
	publish(b, 2, 4, 1100);                   /* by another session */
	assert_int_equal(sync_timeout(&b->sync, 1000 + SYNC_GRAFT_MS), 0);
	assert_int_equal(q_len(p.ba), 0);
	assert_true(sync_lazy(&b->sync, ALLIANCE));
	assert_int_equal(sync_next_deadline(&b->sync), UINT64_MAX);
	pair_down(&p, a, b);
	free(a);
	free(b);
}

/* ------------------------------------------------ networks of engines */

struct run {
	double copies;        /* envelopes received per record per other node */
	uint64_t have, prune, graft;
	bool converged;
};

/* nodes engines in a random graph of about `degree` links each, `records`
 * records published one every 100 ms at random nodes (each takes 10-30 ms
 * per hop, so several are on their way at once; at one every 50 ms the
 * figure was 1.29); if cut_share, that
 * share of the links left eager is cut after a third of them.  Nodes at
 * index < old_nodes offer protocol version old_version only. */
static void run_net(struct run *r, unsigned nodes, unsigned degree, unsigned records,
                    double cut_share, unsigned old_nodes, uint32_t old_version, uint64_t seed)
{
	struct net *n;
	uint64_t every = 100;
	struct net_opts o = { .nodes = nodes, .feeds = nodes, .seqs = 1, .latency_ms = 10,
	                      .jitter_ms = 20, .env_bytes = 200, .seed = seed };
	assert_int_equal(net_new(&n, &o), 0);
	for (unsigned i = 0; i < old_nodes; i++)
		net_set_max_version(n, i, old_version);
	assert_int_equal(net_random_graph(n, degree), 0);
	assert_true(net_connected(n));
	assert_int_equal(net_settle(n, 60000), 0);
	net_stats_reset(n);
	uint64_t rng = seed * 2654435761u + 1;
	for (unsigned k = 0; k < records; k++) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		assert_int_equal(net_publish(n, (unsigned)((rng >> 33) % nodes)), 0);
		assert_int_equal(net_run(n, net_now(n) + every), 0);
		if (cut_share > 0 && k == records / 3) {
			/* Cut that share of the eager links (some in each direction
			 * lazy are left alone): the tree breaks in many places. */
			size_t links = net_links(n), cut = 0, want = (size_t)(cut_share * links);
			for (size_t i = 0; i < net_links(n) && cut < want;) {
				unsigned x, y;
				net_link_ends(n, i, &x, &y);
				struct sync *e = net_engine(n, x, y);
				if (sync_lazy(e, net_alliance(n))) {
					i++;
					continue;
				}
				net_cut(n, x, y);
				if (!net_connected(n)) {
					/* keep the graph connected: undo by relinking */
					assert_int_equal(net_link(n, x, y), 0);
					i++;
					continue;
				}
				cut++;
			}
			assert_true(cut > 0);
		}
	}
	assert_int_equal(net_settle(n, net_now(n) + 600000), 0);
	const struct net_stats *st = net_stats(n);
	r->copies = (double)st->received / ((double)st->published * (nodes - 1));
	r->have = st->msgs[AGORA__WIRE__MESSAGE__MSG_HAVE];
	r->prune = st->msgs[AGORA__WIRE__MESSAGE__MSG_PRUNE];
	r->graft = st->msgs[AGORA__WIRE__MESSAGE__MSG_GRAFT];
	r->converged = net_converged(n);
	for (uint32_t v = 1; v < 3; v++) {
		assert_int_equal(net_msgs_version(n, v, AGORA__WIRE__MESSAGE__MSG_HAVE), 0);
		assert_int_equal(net_msgs_version(n, v, AGORA__WIRE__MESSAGE__MSG_PRUNE), 0);
		assert_int_equal(net_msgs_version(n, v, AGORA__WIRE__MESSAGE__MSG_GRAFT), 0);
	}
	net_free(n);
}

static void test_sync_gossip__100_nodes_degree_6_receive_each_record_at_most_1_3_times(
	void **state)
{
	struct run lazy, eager;
	(void)state;
	run_net(&lazy, 100, 6, 200, 0, 0, 0, 7);
	run_net(&eager, 100, 6, 200, 0, 100, 2, 7);   /* every node of version 2 */
	printf("copies received per record per node: %.3f (version 2, eager only: %.3f); "
	       "Have %llu Prune %llu Graft %llu\n", lazy.copies, eager.copies,
	       (unsigned long long)lazy.have, (unsigned long long)lazy.prune,
	       (unsigned long long)lazy.graft);
	assert_true(lazy.converged);
	assert_true(eager.converged);
	assert_true(lazy.copies <= 1.3);
	assert_true(eager.copies > 1.5);   /* the baseline the bound is about */
	assert_int_equal(eager.have + eager.prune + eager.graft, 0);
}

static void test_sync_gossip__a_fifth_of_eager_links_cut_mid_run_still_reaches_all(void **state)
{
	struct run r;
	(void)state;
	run_net(&r, 100, 6, 200, 0.2, 0, 0, 11);
	printf("20%% of eager links cut: copies %.3f, Graft %llu\n", r.copies,
	       (unsigned long long)r.graft);
	assert_true(r.converged);
	assert_true(r.graft > 0);   /* the cut tree was repaired by grafts */
}

/* Nodes of versions 1 and 2 in the mesh: their sessions stay eager and
 * never carry a message of version 3 (run_net checks), and all converge. */
static void test_sync_gossip__mixed_versions_converge_and_old_sessions_stay_eager(void **state)
{
	struct run r;
	(void)state;
	run_net(&r, 40, 5, 60, 0, 10, 2, 3);
	assert_true(r.converged);
	assert_true(r.prune > 0);
	run_net(&r, 40, 5, 60, 0, 10, 1, 5);
	assert_true(r.converged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_gossip__have_entries_out_of_order_are_a_protocol_violation),
		cmocka_unit_test(test_sync_gossip__have_of_seq_0_or_none_is_a_protocol_violation),
		cmocka_unit_test(test_sync_gossip__have_over_1024_entries_is_refused),
		cmocka_unit_test(
			test_sync_gossip__an_alliance_the_session_never_carried_is_a_protocol_violation),
		cmocka_unit_test(test_sync_gossip__version_1_session_closes_on_them_and_never_prunes),
		cmocka_unit_test(
			test_sync_gossip__pruned_session_announces_and_a_graft_after_the_delay_streams),
		cmocka_unit_test(
			test_sync_gossip__announced_record_that_arrives_otherwise_is_not_grafted),
		cmocka_unit_test(
			test_sync_gossip__100_nodes_degree_6_receive_each_record_at_most_1_3_times),
		cmocka_unit_test(test_sync_gossip__a_fifth_of_eager_links_cut_mid_run_still_reaches_all),
		cmocka_unit_test(test_sync_gossip__mixed_versions_converge_and_old_sessions_stay_eager),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
