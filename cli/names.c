/*
 * names.c - municipality names: author key -> newest Profile name and
 * country (else an Admission's), read once per snapshot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/names_int.h"

struct name_entry {
	uint8_t key[PROTO_KEY_BYTES];
	char *name;
	char *country;
	bool from_profile;          /* a Profile beats an Admission */
};

struct cli_names {
	struct store_txn *t;        /* borrowed */
	bool loaded;
	struct name_entry *v;
	size_t n, cap;
};

struct cli_names *cli_names_new(struct store_txn *t)
{
	struct cli_names *n = calloc(1, sizeof(*n));

	if (n)
		n->t = t;
	return n;
}

void cli_names_free(struct cli_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		free(n->v[i].name);
		free(n->v[i].country);
	}
	free(n->v);
	free(n);
}

static struct name_entry *names_find(struct cli_names *n, const uint8_t key[PROTO_KEY_BYTES])
{
	for (size_t i = 0; i < n->n; i++)
		if (!memcmp(n->v[i].key, key, PROTO_KEY_BYTES))
			return &n->v[i];
	return NULL;
}

static int names_set(struct cli_names *n, const uint8_t key[PROTO_KEY_BYTES], const char *name,
                     const char *country, bool from_profile)
{
	struct name_entry *e = names_find(n, key);
	char *nm, *co = NULL;

	if (!name || !*name)
		return 0;
	if (e && e->from_profile && !from_profile)
		return 0;
	nm = strdup(name);
	if (country && *country)
		co = strdup(country);
	if (!nm || (country && *country && !co)) {
		free(nm);
		free(co);
		return -ENOMEM;
	}
	if (!e) {
		if (n->n == n->cap) {
			size_t cap = n->cap ? n->cap * 2 : 16;
			struct name_entry *v = realloc(n->v, cap * sizeof(*v));
			if (!v) {
				free(nm);
				free(co);
				return -ENOMEM;
			}
			n->v = v;
			n->cap = cap;
		}
		e = &n->v[n->n++];
		memcpy(e->key, key, PROTO_KEY_BYTES);
	} else {
		free(e->name);
		free(e->country);
	}
	e->name = nm;
	e->country = co;
	e->from_profile = from_profile;
	return 0;
}

static int names_hit(const struct store_hit *hit, void *arg)
{
	struct cli_names *n = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	int rc = 0;

	if (proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL) < 0)
		return 0;               /* the store verified it; skip rather than fail */
	kind = proto_record_content(rec, &msg);
	if (kind == PROTO_KIND_PROFILE && msg && rec->author.len == PROTO_KEY_BYTES) {
		const Agora__Profile *p = (const Agora__Profile *)msg;
		rc = names_set(n, rec->author.data, p->name, p->country, true);
	} else if (kind == PROTO_KIND_ADMISSION && msg) {
		const Agora__Admission *a = (const Agora__Admission *)msg;
		if (a->member.len == PROTO_KEY_BYTES)
			rc = names_set(n, a->member.data, a->name, a->country, false);
	}
	agora__record__free_unpacked(rec, NULL);
	return rc;
}

/*
 * Load every name once: admissions first, then profiles oldest first, so the
 * newest Profile of each author is what remains.
 */
int cli_names_load(struct cli_names *n)
{
	struct store_query q;
	int rc;

	if (n->loaded)
		return 0;
	n->loaded = true;
	memset(&q, 0, sizeof(q));
	q.kind = PROTO_KIND_ADMISSION;
	q.governance = true;
	q.sort = STORE_SORT_OLDEST;
	rc = store_query(n->t, &q, names_hit, n, NULL);
	if (rc < 0 && rc != STORE_E_NOTFOUND)
		return rc;
	memset(&q, 0, sizeof(q));
	q.kind = PROTO_KIND_PROFILE;
	q.sort = STORE_SORT_OLDEST;
	rc = store_query(n->t, &q, names_hit, n, NULL);
	if (rc < 0 && rc != STORE_E_NOTFOUND)
		return rc;
	return 0;
}

const char *cli_names_name(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES])
{
	struct name_entry *e;

	if (!n || cli_names_load(n) < 0)
		return NULL;
	e = names_find(n, author);
	return e ? e->name : NULL;
}

const char *cli_names_country(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES])
{
	struct name_entry *e;

	if (!n || cli_names_load(n) < 0)
		return NULL;
	e = names_find(n, author);
	return e ? e->country : NULL;
}


size_t cli_names_count(const struct cli_names *n)
{
	return n->n;
}

const char *cli_names_at(const struct cli_names *n, size_t i, const uint8_t **key)
{
	*key = n->v[i].key;
	return n->v[i].name;
}
