/*
 * proto.c - library start-up, error names, hex.
 */
#include <string.h>
#include <sodium.h>

#include "proto/proto.h"

int proto_init(void)
{
	/* sodium_init() returns 1 when already initialised, which is fine. */
	if (sodium_init() < 0)
		return PROTO_E_NOMEM;
	return 0;
}

const char *proto_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case PROTO_E_TOO_BIG:
		return "record envelope is larger than the 64 KiB limit";
	case PROTO_E_ENVELOPE:
		return "record envelope is malformed";
	case PROTO_E_DECODE:
		return "record bytes are not a valid, canonically encoded record";
	case PROTO_E_SIGNATURE:
		return "record signature does not verify against its author";
	case PROTO_E_FIELD:
		return "a record field is missing or invalid";
	case PROTO_E_FUTURE:
		return "record is dated more than 15 minutes in the future";
	case PROTO_E_KIND:
		return "record has no body";
	case PROTO_E_SEQ:
		return "record sequence number does not follow the author's last record";
	case PROTO_E_PREV:
		return "record does not link to the author's previous record";
	case PROTO_E_KEY:
		return "identity key is malformed or the passphrase is wrong";
	case PROTO_E_KEY_PERM:
		return "identity key file is readable by other users (chmod 600 it)";
	case PROTO_E_NOMEM:
		return "out of memory";
	case PROTO_E_ARG:
		return "invalid argument";
	case PROTO_E_PASSPHRASE:
		return "identity key is encrypted and needs a passphrase";
	case PROTO_E_UPGRADE:
		return "record needs a newer version of agora (upgrade required)";
	default:
		break;
	}
	if (code < 0 && code > -1000)
		return strerror(-code);
	return "unknown error";
}

void proto_hex(char *out, const uint8_t *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int proto_unhex(uint8_t *out, size_t n, const char *hex)
{
	if (!hex || !out)
		return PROTO_E_ARG;
	/* Check everything first so out is written only on success. */
	for (size_t i = 0; i < 2 * n; i++)
		if (hex_digit(hex[i]) < 0)
			return PROTO_E_ARG;
	if (hex[2 * n] != '\0')
		return PROTO_E_ARG;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	return 0;
}
