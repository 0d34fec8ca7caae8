/*
 * markup_int.h - cli/ internal: stored text written into HTML and XML (the
 * summit report's HTML and SVG, every page and the Atom feed of agora web).
 * Stored text is another municipality's and treated as hostile: this is
 * the one function that escapes it, so the report and the web interface
 * follow one rule.
 *
 * The rule.  & < > " ' become &amp; &lt; &gt; &quot; &#39; (safe as text
 * and inside a quoted attribute value).  Characters that XML 1.0 forbids
 * or HTML calls control characters become U+FFFD (the replacement
 * character, shown as a visible mark where they were): the C0 controls
 * but TAB, LF and CR (U+0000..U+001F), DEL (U+007F), the C1 controls
 * (U+0080..U+009F, which proto/validate.c refuses in stored text too) and
 * the noncharacters U+FFFE and U+FFFF.  Replaced, not dropped, so that a reader sees that
 * something was there, and not a space, so that a stripped control cannot
 * pass for ordinary text.  Every other byte is copied as it is: the text
 * is valid UTF-8 (the store and the form decoder check it).
 */
#ifndef AGORA_CLI_MARKUP_INT_H
#define AGORA_CLI_MARKUP_INT_H

#include <stddef.h>
#include <stdio.h>

/* s escaped by the rule above into f; NULL writes nothing. */
void cli_markup_esc(FILE *f, const char *s);
/* The first n bytes of s (fewer if a NUL comes first) the same way. */
void cli_markup_esc_n(FILE *f, const char *s, size_t n);

#endif
