/*
 * web_text.c - the words of `agora web`, read from the language files
 * (see web_text.h).
 */
#include "cli/web/web_text.h"

#define WEB_TEXT_KEY(name) "web." #name,
static const char *const keys[] = { WEB_TEXT_FIELDS(WEB_TEXT_KEY) };
#undef WEB_TEXT_KEY

void web_text_load(struct web_text *out, const struct lang *l)
{
	out->lang = lang_id(l);
#define WEB_TEXT_SET(name) out->name = lang_text(l, "web." #name);
	WEB_TEXT_FIELDS(WEB_TEXT_SET)
#undef WEB_TEXT_SET
}

const char *web_text_key(size_t i)
{
	return i < sizeof(keys) / sizeof(keys[0]) ? keys[i] : NULL;
}
