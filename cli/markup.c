/*
 * markup.c - the one escaping rule for stored text in HTML and XML
 * (markup_int.h says which characters and why).
 */
#include <string.h>

#include "cli/markup_int.h"

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD in UTF-8 */

void cli_markup_esc_n(FILE *f, const char *s, size_t n)
{
	const unsigned char *c = (const unsigned char *)s;

	for (size_t i = 0; c && i < n && c[i]; i++) {
		switch (c[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		case '\t': case '\n': case '\r': fputc(c[i], f); break;
		default:
			if (c[i] < 0x20 || c[i] == 0x7f) {
				fputs(REPLACEMENT, f);
			} else if (c[i] == 0xc2 && i + 1 < n && c[i + 1] >= 0x80 && c[i + 1] <= 0x9f) {
				fputs(REPLACEMENT, f);      /* a C1 control, U+0080..U+009F */
				i += 1;
			} else if (c[i] == 0xef && i + 2 < n && c[i + 1] == 0xbf &&
			           (c[i + 2] == 0xbe || c[i + 2] == 0xbf)) {
				fputs(REPLACEMENT, f);      /* U+FFFE, U+FFFF */
				i += 2;
			} else {
				fputc(c[i], f);
			}
		}
	}
}

void cli_markup_esc(FILE *f, const char *s)
{
	if (s)
		cli_markup_esc_n(f, s, strlen(s));
}
