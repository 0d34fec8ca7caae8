/* rename.h - the landed engine's public symbols, renamed so it links beside
 * the current engine (force-included into sync_v1.c and v1_adapter.c). */
#define sync_digest landed_v1_sync_digest
#define sync_dispose landed_v1_sync_dispose
#define sync_init landed_v1_sync_init
#define sync_is_fatal landed_v1_sync_is_fatal
#define sync_lag landed_v1_sync_lag
#define sync_live landed_v1_sync_live
#define sync_local_changed landed_v1_sync_local_changed
#define sync_peer_seq landed_v1_sync_peer_seq
#define sync_pending landed_v1_sync_pending
#define sync_produce landed_v1_sync_produce
#define sync_receive landed_v1_sync_receive
#define sync_resync landed_v1_sync_resync
#define sync_send_ack landed_v1_sync_send_ack
#define sync_send_bye landed_v1_sync_send_bye
#define sync_send_fork landed_v1_sync_send_fork
#define sync_send_ping landed_v1_sync_send_ping
#define sync_start landed_v1_sync_start
#define sync_strerror landed_v1_sync_strerror
