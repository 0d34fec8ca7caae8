#!/bin/bash
# D14 (issue 10): resolving a peer's host name does not block the loop.
# a runs in a mount namespace whose /etc/resolv.conf points at a DNS
# server that swallows every query (port 53 of a random 127.x.y.z).  A
# peer whose address is a host name is added to a running a.  Until a has
# given up resolving it, a's loop must answer `agora peers` within 200 ms;
# afterwards a still publishes, a fresh member syncs to completion, and its
# peak RSS stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for a mount namespace"
unshare -m true 2>/dev/null || skip "cannot create a mount namespace (unshare -m)"
STOP="$WORK/dns.stop"
DNS_IP=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
HOSTILE_STOP="$STOP" "$HOSTILE" silentdns "$DNS_IP" > "$WORK/dns.out" 2>&1 &
PIDS+=("$!")
EXTRA_CLEANUP+=("touch $STOP")
for _ in $(seq 50); do grep -q "^swallowing" "$WORK/dns.out" && break; sleep 0.1; done
grep -q "^swallowing" "$WORK/dns.out" || skip "cannot bind $DNS_IP:53/udp: $(cat "$WORK/dns.out")"
printf 'nameserver %s\noptions timeout:3 attempts:2\n' "$DNS_IP" > "$WORK/resolv.conf"
A_RESOLV="$WORK/resolv.conf" target_fixture
mknode ghost
probe_start a
ag a peer add "ghost.agora-test.example:7420" "$(key ghost)" --name ghost >/dev/null ||
	fail "peer add"
wait_for 30 "a to ask the DNS server" grep -q "^query" "$WORK/dns.out"
gave_up() { [ -n "$(peer_field a ghost last_error)" ]; }
soft_wait 60 "a to give up resolving the name" gave_up
probe_stop "a resolved a host name its DNS server never answers"
grep -c "^query" "$WORK/dns.out" | sed 's/^/DNS queries swallowed: /'
echo "ghost: $(peer_field a ghost state), $(peer_field a ghost last_error)"
after_attack
finish
