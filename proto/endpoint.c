/*
 * endpoint.c - the rules of the Endpoint record (kind 29, PROTOCOL.md 1.5
 * "endpoint" and 6.10): where a node is reached, one address at a time.
 *
 * An address is what another node dials, so its rule is a syntax nobody
 * reads two ways: "HOST:PORT" with a DNS name or a dotted-decimal IPv4
 * address, or "[V6]:PORT", a decimal port without leading zeros.  agora.conf
 * and the CLI check what an operator types with the same function, so a
 * node never signs an address its peers would not read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

#define NAME_MAX_BYTES 253      /* a DNS name, without a final dot */
#define LABEL_MAX 63

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
}

/* Decimal 1..65535, no sign, no leading zero, nothing after it. */
static bool port_parse(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/*
 * A host written without brackets: an IPv4 address, or a DNS name whose
 * last label is not all digits (RFC 3696 section 2: a top-level label is
 * never numeric), so "10.0.0.300" is a bad IPv4 address, not a name.
 */
static const char *host_check(const char *h, size_t n, bool *ipv4_zero)
{
	size_t label = 0;
	bool numeric_last = true;
	char ip[16];

	*ipv4_zero = false;
	if (n > NAME_MAX_BYTES)
		return "has a host name longer than 253 bytes";
	for (size_t i = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			if (label == 0)
				return "has an empty part in its host name (two dots, or a dot at an end)";
			if (label > LABEL_MAX)
				return "has a part of its host name longer than 63 bytes";
			if (h[i - 1] == '-' || h[i - label] == '-')
				return "has a part of its host name that starts or ends with '-'";
			numeric_last = true;
			for (size_t k = i - label; k < i; k++)
				numeric_last = numeric_last && is_digit(h[k]);
			label = 0;
			continue;
		}
		if (!is_ldh(h[i]))
			return "has a host that is neither a name (letters, digits, '-' and '.') "
			       "nor an IPv4 address";
		label++;
	}
	if (!numeric_last)
		return NULL;
	if (n >= sizeof(ip))
		return "has a numeric host that is not an IPv4 address";
	memcpy(ip, h, n);
	ip[n] = '\0';
	struct in_addr a;
	/* glibc's inet_pton takes exactly four decimal numbers 0..255 without
	 * leading zeros: the dotted-decimal form of RFC 6943 section 3.1.1. */
	if (inet_pton(AF_INET, ip, &a) != 1)
		return "has a numeric host that is not an IPv4 address (four numbers 0 to 255)";
	*ipv4_zero = a.s_addr == 0;
	return NULL;
}

int proto_address_parse(char *host, size_t cap, uint16_t *port, const char *addr,
                        const char **why)
{
	const char *w = NULL, *h, *colon;
	size_t n, hl;
	uint16_t p = 0;
	bool zero = false;

	if (!addr || !*addr) {
		w = "is empty";
		goto out;
	}
	n = strlen(addr);
	if (n > PROTO_ADDRESS_MAX) {
		w = "is longer than 259 bytes";
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)addr[i] <= 0x20 || (unsigned char)addr[i] >= 0x7f) {
			w = "contains a blank, a control character or a non-ASCII byte (write a "
			    "name in its ASCII form, xn--...)";
			goto out;
		}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		char ip[64];
		struct in6_addr a6;
		if (!close || close[1] != ':') {
			w = close ? "has no port (write [IPv6]:PORT)"
			          : "opens a bracket it does not close (write [IPv6]:PORT)";
			goto out;
		}
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (hl == 0 || hl >= sizeof(ip) || memchr(h, '%', hl)) {
			w = "has a bracketed host that is not an IPv6 address (no zone index)";
			goto out;
		}
		memcpy(ip, h, hl);
		ip[hl] = '\0';
		if (inet_pton(AF_INET6, ip, &a6) != 1) {
			w = "has a bracketed host that is not an IPv6 address";
			goto out;
		}
		static const uint8_t any[16];
		static const uint8_t v4any[16] = { [10] = 0xff, [11] = 0xff };
		zero = !memcmp(a6.s6_addr, any, 16) || !memcmp(a6.s6_addr, v4any, 16);
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			w = "has no port (write HOST:PORT, or [IPv6]:PORT)";
			goto out;
		}
		h = addr;
		hl = (size_t)(colon - addr);
		if (memchr(h, ':', hl)) {
			w = "is an IPv6 address without brackets (write [2001:db8::1]:7420)";
			goto out;
		}
		if (hl == 0) {
			w = "has no host before its port";
			goto out;
		}
		if (memchr(h, ']', hl)) {
			w = "has a ']' without a '['";
			goto out;
		}
		if ((w = host_check(h, hl, &zero)))
			goto out;
	}
	if (!port_parse(colon + 1, &p)) {
		w = "has a port that is not a number from 1 to 65535 (no leading zeros)";
		goto out;
	}
	if (zero) {
		w = "is the unspecified address (0.0.0.0 or [::]), which no one can dial";
		goto out;
	}
	if (host) {
		if (hl + 1 > cap)
			return PROTO_E_ARG;
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	if (port)
		*port = p;
	return 0;
out:
	if (why)
		*why = w;
	return PROTO_E_FIELD;
}

int proto_endpoint_check(const Agora__Endpoint *e, struct proto_error *err)
{
	bool dial_out_only = e->has_dial_out_only && e->dial_out_only;
	const char *why;

	if (dial_out_only && e->n_addresses)
		return proto_fail(err, PROTO_E_FIELD, "endpoint.addresses",
		                  "endpoint.addresses: must be empty when dial_out_only is set (a "
		                  "node that cannot be dialled has no address)");
	if (!dial_out_only && !e->n_addresses)
		return proto_fail(err, PROTO_E_FIELD, "endpoint.addresses",
		                  "endpoint.addresses: must list where this node is reached (1 to %d "
		                  "HOST:PORT), or set dial_out_only", PROTO_ENDPOINT_MAX);
	if (e->n_addresses > PROTO_ENDPOINT_MAX)
		return proto_fail(err, PROTO_E_FIELD, "endpoint.addresses",
		                  "endpoint.addresses: has %zu entries; at most %d are allowed",
		                  e->n_addresses, PROTO_ENDPOINT_MAX);
	for (size_t i = 0; i < e->n_addresses; i++) {
		char path[48];
		snprintf(path, sizeof(path), "endpoint.addresses[%zu]", i);
		if (proto_address_parse(NULL, 0, NULL, e->addresses[i], &why) < 0)
			return proto_fail(err, PROTO_E_FIELD, path, "%s: %s", path, why);
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(e->addresses[i], e->addresses[j]))
				return proto_fail(err, PROTO_E_FIELD, path,
				                  "%s: is listed twice (as addresses[%zu])", path, j);
	}
	return 0;
}
