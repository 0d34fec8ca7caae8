/* v1_adapter.c - see v1_adapter.h. */
#include <stdlib.h>
#include <string.h>

#include "sync_v1.h"
#include "v1_adapter.h"

struct v1 {
	struct sync s;
	struct sync_local local;
	struct sync_lvec lv;
};

struct v1 *v1_new(bool initiator, const uint8_t self[32], const uint8_t peer[32],
                  const struct v1_io *io)
{
	struct v1 *e = calloc(1, sizeof(*e));
	struct sync_io sio = { io->ctx, io->send, io->read, io->records, io->allowed, NULL };
	if (!e)
		return NULL;
	e->local.v = &e->lv;
	e->local.n = 1;
	if (sync_init(&e->s, initiator, self, "v1", peer, &e->local, &sio)) {
		free(e);
		return NULL;
	}
	return e;
}

int v1_set_local(struct v1 *e, const uint8_t alliance[32], const struct v1_head *h, size_t n)
{
	struct sync_head *heads = calloc(n ? n : 1, sizeof(*heads));
	if (!heads)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memcpy(heads[i].author, h[i].author, 32);
		heads[i].seq = h[i].seq;
		memcpy(heads[i].id, h[i].id, 32);
	}
	free(e->lv.heads);
	e->lv.heads = heads;
	e->lv.n = n;
	memcpy(e->lv.alliance, alliance, 32);
	return 0;
}

int v1_start(struct v1 *e) { return sync_start(&e->s); }
int v1_receive(struct v1 *e, const uint8_t *msg, size_t len) { return sync_receive(&e->s, msg, len, 1000); }
bool v1_pending(const struct v1 *e) { return sync_pending(&e->s); }
int v1_produce(struct v1 *e) { return sync_produce(&e->s, 1 << 20, NULL); }
int v1_local_changed(struct v1 *e) { return sync_local_changed(&e->s, 1000); }
int v1_resync(struct v1 *e) { return sync_resync(&e->s); }
bool v1_live(const struct v1 *e) { return sync_live(&e->s); }

void v1_free(struct v1 *e)
{
	if (!e)
		return;
	sync_dispose(&e->s);
	free(e->lv.heads);
	free(e);
}
