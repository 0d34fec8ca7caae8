/*
 * control_int.h - the CLI's client of agorad's control socket (cli/ only).
 *
 * One request per connection to <home>/agorad.sock: a 4-byte big-endian
 * length and a serialized agora.control.Request; the node answers with one
 * Response the same way (proto/control.proto, proto/PROTOCOL.md section 4.6).
 * Framing and limits are proto's (proto_control_*), shared with agorad.
 */
#ifndef AGORA_CLI_CONTROL_INT_H
#define AGORA_CLI_CONTROL_INT_H

#include "cli/cli_int.h"
#include "control.pb-c.h"

#define CLI_CONTROL_TIMEOUT_MS 5000

/*
 * Send req and wait (at most CLI_CONTROL_TIMEOUT_MS) for the response.
 * *out is freed with agora__control__response__free_unpacked(*out, NULL).
 * Returns 0, -ENOENT / -ECONNREFUSED when no node runs, -ETIMEDOUT, other
 * -errno, or -EPROTO for a malformed answer.  Prints nothing.
 */
int cli_control_call(struct cli_ctx *ctx, const Agora__Control__Request *req,
                     Agora__Control__Response **out);

/*
 * Tell a running node a record was written locally (a Poke request), so it
 * goes out at once.  Silent; does nothing when no node runs.
 */
void cli_control_poke(struct cli_ctx *ctx);

#endif
