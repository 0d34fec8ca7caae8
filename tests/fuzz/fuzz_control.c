/* fuzz_control.c - the bytes a client writes to agorad's control socket
 * (node/control.c): the 4-byte length frame, then the Request decoder and
 * its checks.  The same bytes also go through the Response decoder the
 * agora CLI uses on agorad's answer. */
#include <stdint.h>
#include <stdlib.h>

#include "node/node_int.h"
#include "control.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 0;
	const char *err = NULL;
	if (control_frame(data, size, &len) == 1) {
		if (len > size - 4)
			abort();   /* the frame must lie within what was read */
		Agora__Control__Request *req = control_request_decode(data + 4, len, &err);
		if (req) {
			if (req->req_case == AGORA__CONTROL__REQUEST__REQ_SYNC && req->sync->has_peer &&
			    req->sync->peer.len != 32)
				abort();   /* a peer key agorad would look up must be whole */
			agora__control__request__free_unpacked(req, NULL);
		} else if (!err) {
			abort();   /* every refusal says why */
		}
	}
	Agora__Control__Response *r = agora__control__response__unpack(NULL, size, data);
	if (r)
		agora__control__response__free_unpacked(r, NULL);
	return 0;
}
