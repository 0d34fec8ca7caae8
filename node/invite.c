/*
 * invite.c - invite redemption at the node (PROTOCOL.md 6.7).
 *
 * Coordinator side: a key that is not admitted may open a session only
 * while this node has invites open, and then only to send one Redeem (the
 * engine's REDEEM state).  The redemption is a job: it uses the code up
 * (whatever happens next), publishes the Admission of the redeemer's key,
 * and the view takes the admission in before the session opens.  A used
 * code redeemed by a key that the store holds as an active member (its
 * earlier redemption admitted it, but it never heard) lets it in too.
 *
 * Joiner side (`agora join CODE`): storage keeps the alliance and token
 * for the coordinator's key; the coordinator is accepted before this node
 * holds any alliance, and the Redeem goes out before our Hello.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/node_int.h"

/* Read on every tick (invites are made by the CLI, and expire), so a
 * stranger's handshake costs no scan of them.  With none open the read is
 * a scan of every invite ever made (12,000 at a Covenant coordinator), and
 * only a write can open one: it is skipped while the store shows the same
 * commit as the last read. */
void node_invites_check(struct node *n)
{
	struct store_txn *t;
	bool open = false, made = false;
	if (store_txn_begin(n->store, &t) == 0) {
		uint64_t number = store_txn_number(t);
		if (!n->invites_open && n->invites_read && number == n->invites_txn) {
			store_txn_end(t);
			n->invites_checked_ms = node_mono_ms(n);
			return;
		}
		if (store_invites_state(t, node_wall_ms(n), &open, &made)) {
			open = made = false;
		} else {
			n->invites_txn = number;
			n->invites_read = true;
		}
		store_txn_end(t);
	}
	n->invites_open = open;
	n->invites_made = made;
	n->invites_checked_ms = node_mono_ms(n);
}

bool node_join_pending(struct node *n, const uint8_t key[32])
{
	struct store_txn *t;
	bool pending = false;
	if (store_txn_begin(n->store, &t) == 0) {
		pending = store_join_get(t, key, NULL, NULL) == 0;
		store_txn_end(t);
	}
	return pending;
}

int node_join_message(struct node *n, const uint8_t key[32], uint8_t alliance[32],
                      uint8_t token[32])
{
	struct store_txn *t;
	int rc = store_txn_begin(n->store, &t);
	if (rc == 0) {
		rc = store_join_get(t, key, alliance, token);
		store_txn_end(t);
	}
	return rc;
}

/* ------------------------------------------------------------ the job */

struct redeem_job {
	struct job base;
	uint64_t session_id;
	uint8_t alliance[32], token[32], member[32];
	enum sync_bye_code code;      /* Bye when it failed */
	const char *why;
	char name[128];
};

/* Is the redeemer an active member of the alliance already?  (Then its
 * name, for the log, goes to rj->name.) */
static bool admitted_already(struct node *n, struct redeem_job *rj)
{
	struct store_txn *t;
	struct store_member m;
	bool yes = false;
	if (store_txn_begin(n->store, &t))
		return false;
	if (store_member_get(t, rj->alliance, rj->member, &m) == 0 &&
	    store_member_is_active(&m, node_wall_ms(n))) {
		snprintf(rj->name, sizeof(rj->name), "%s", m.name);
		yes = true;
	}
	store_txn_end(t);
	return yes;
}

static void redeem_work(struct job *job)
{
	struct redeem_job *rj = (struct redeem_job *)job;
	struct node *n = job->node;
	struct store_invite inv;
	int rc;

	rc = store_invite_use(n->store, rj->token, rj->alliance, node_wall_ms(n), &inv);
	if (rc == STORE_E_USED && admitted_already(n, rj)) {
		/* Its redemption admitted it, but the session ended before it
		 * heard so (a busy coordinator, a reset): it redeems again, and is
		 * let in as the member it is.  Refused, it would never learn that
		 * it may simply say Hello, and redial for ever. */
		return;
	}
	if (rc) {
		job->rc = rc;
		switch (rc) {
		case STORE_E_USED:
			rj->code = SYNC_BYE_INVITE_USED;
			rj->why = "invite already used";
			break;
		case STORE_E_EXPIRED:
			rj->code = SYNC_BYE_INVITE_EXPIRED;
			rj->why = "invite expired";
			break;
		case STORE_E_NOTFOUND:
			rj->code = SYNC_BYE_INVITE_UNKNOWN;
			rj->why = "unknown invite";
			break;
		default:
			rj->code = SYNC_BYE_NOT_ADMITTED;
			rj->why = "cannot record the invite as used";
			break;
		}
		return;
	}
	snprintf(rj->name, sizeof(rj->name), "%s", inv.name);
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	struct proto_error err = { 0 };
	a.has_member = 1;
	a.member.len = 32;
	a.member.data = rj->member;
	a.name = inv.name;
	a.country = inv.country[0] ? inv.country : NULL;
	a.has_role = 1;
	a.role = inv.role;
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &a;
	rc = store_publish(n->store, n->key, rj->alliance, &rec, node_wall_ms(n), NULL, NULL, NULL,
	                   &err);
	if (rc) {
		job->rc = rc;
		rj->code = SYNC_BYE_NOT_ADMITTED;
		rj->why = "cannot publish the admission (is this node still a coordinator?)";
	}
}

static void redeem_done(struct job *job)
{
	struct redeem_job *rj = (struct redeem_job *)job;
	struct node *n = job->node;
	struct session *s = session_find(n, rj->session_id);
	if (job->rc == UV_ECANCELED)
		return;
	node_invites_check(n);   /* this one may have been the last open */
	if (!s)
		return;
	if (job->rc) {
		if (!rj->why) {
			/* The work never ran (the job could not be queued), so the
			 * code was not used: a Bye the joiner backs off from and
			 * redials after, not a final one. */
			rj->code = SYNC_BYE_UNSPECIFIED;
			rj->why = "cannot redeem the invite now; try again later";
		}
		NLOG(n, NODE_LOG_WARN, "session", "refused %s: %s", s->addr, rj->why);
		session_refuse(s, rj->code, rj->why, 0);
		return;
	}
	NLOG(n, NODE_LOG_INFO, "session", "invite for %s redeemed by %s: admitted", rj->name,
	     s->addr);
	struct peer *p = node_peer_find(n, s->peer_key);
	if (!p)
		p = node_peer_accepted(n, s->peer_key, rj->name);
	int rc = p ? session_admitted(s, p) : -ENOMEM;
	if (rc < 0) {
		session_close(s, rc <= -3000 ? sync_strerror(rc) : "cannot open the session", true);
		return;
	}
	if (rc == 0) {
		session_kick(s);   /* our Hello */
		session_resume(s, PAUSE_JOB);
	}
}

static void redeem_free(struct job *job)
{
	sodium_memzero(((struct redeem_job *)job)->token, 32);
	free(job);
}

static const struct job_ops redeem_ops = {
	.name = "redeem", .work = redeem_work, .done = redeem_done, .free = redeem_free,
	.refresh = true,
};

int node_invite_redeem(struct node *n, struct session *s, const uint8_t alliance[32],
                       const uint8_t token[32])
{
	struct redeem_job *rj = calloc(1, sizeof(*rj));
	if (!rj)
		return -ENOMEM;
	rj->base.ops = &redeem_ops;
	rj->session_id = s->id;
	memcpy(rj->alliance, alliance, 32);
	memcpy(rj->member, s->peer_key, 32);
	memcpy(rj->token, token, 32);   /* wiped when the job is freed */
	session_pause(s, PAUSE_JOB);
	job_submit(n, &rj->base);
	return 0;
}
