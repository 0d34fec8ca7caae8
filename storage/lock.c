/*
 * lock.c - how the threads of one process share a struct store.
 *
 * LMDB lets read snapshots run beside the one write transaction, and
 * several threads hold snapshots at once (the environment is opened
 * MDB_NOTLS).  What it does not allow is changing the map size
 * (mdb_env_set_mapsize) while any transaction of this process is open:
 * the map is unmapped and mapped again, elsewhere.  So every snapshot and
 * every write holds the map "shared" for as long as its LMDB transaction
 * lives, and a map growth takes it "exclusive", waiting until they end.
 *
 * This is a reader-writer lock written out rather than a pthread_rwlock_t
 * for three reasons.  A snapshot may be ended by another thread than the
 * one that began it (unlocking a pthread rwlock from another thread is
 * undefined).  A growth that waits must hold back new snapshots, or a
 * steady stream of overlapping snapshots would starve it; but a thread
 * that already holds a snapshot must still be able to begin a second one,
 * or it would wait for a growth that waits for it.  And a thread that
 * asks for growth while it holds a snapshot itself would wait for ever:
 * the lock knows which thread holds what, so it refuses (-EDEADLK)
 * instead.  Each holder is linked into a list with the thread that took
 * it; the list is short (one entry per open snapshot or write).
 */
#include <errno.h>
#include <string.h>

#include "storage/store_int.h"

int store_lock_init(struct store_lock *l)
{
	memset(l, 0, sizeof *l);
	if (pthread_mutex_init(&l->mu, NULL))
		return -EAGAIN;
	if (pthread_cond_init(&l->cv, NULL)) {
		pthread_mutex_destroy(&l->mu);
		return -EAGAIN;
	}
	l->ready = true;
	return 0;
}

void store_lock_dispose(struct store_lock *l)
{
	if (!l->ready)
		return;
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	l->ready = false;
}

/* Does the calling thread hold the map shared?  Called with mu held. */
static bool held_here(const struct store_lock *l)
{
	pthread_t me = pthread_self();
	for (const struct store_hold *h = l->holders; h; h = h->next)
		if (pthread_equal(h->owner, me))
			return true;
	return false;
}

static void link_hold(struct store_lock *l, struct store_hold *h)
{
	h->owner = pthread_self();
	h->prev = NULL;
	h->next = l->holders;
	if (l->holders)
		l->holders->prev = h;
	l->holders = h;
	l->active++;
}

void store_lock_shared(struct store_lock *l, struct store_hold *h)
{
	pthread_mutex_lock(&l->mu);
	/* A growth waiting holds back new holders, except those of a thread
	 * that holds one already: the growth waits for that thread. */
	while (l->growing || (l->grow_wait && !held_here(l)))
		pthread_cond_wait(&l->cv, &l->mu);
	link_hold(l, h);
	pthread_mutex_unlock(&l->mu);
}

bool store_lock_shared_try(struct store_lock *l, struct store_hold *h)
{
	bool ok;
	pthread_mutex_lock(&l->mu);
	ok = !l->growing && !l->grow_wait;
	if (ok)
		link_hold(l, h);
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void store_lock_shared_end(struct store_lock *l, struct store_hold *h)
{
	pthread_mutex_lock(&l->mu);
	if (h->prev)
		h->prev->next = h->next;
	else
		l->holders = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
	if (--l->active == 0 && l->grow_wait)
		pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

int store_lock_exclusive(struct store_lock *l)
{
	pthread_mutex_lock(&l->mu);
	if (held_here(l)) {
		pthread_mutex_unlock(&l->mu);
		return -EDEADLK;
	}
	l->grow_wait++;
	while (l->active || l->growing)
		pthread_cond_wait(&l->cv, &l->mu);
	l->grow_wait--;
	l->growing = true;
	pthread_mutex_unlock(&l->mu);
	return 0;
}

void store_lock_exclusive_end(struct store_lock *l)
{
	pthread_mutex_lock(&l->mu);
	l->growing = false;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

bool store_lock_held_here(struct store_lock *l)
{
	pthread_mutex_lock(&l->mu);
	bool held = held_here(l);
	pthread_mutex_unlock(&l->mu);
	return held;
}
