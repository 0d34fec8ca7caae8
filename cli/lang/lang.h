/*
 * lang.h - the words agora shows people, in English, Danish, Polish and
 * Dutch: the report's labels, the names of every code list (sectors, areas,
 * instruments, hazards, statuses, barriers, record kinds, ...), and how
 * each language writes numbers and dates.  cli/ only (the report and
 * `agora web` use it).
 *
 * The words live in cli/lang/<code>.ini, files a native speaker can correct
 * (their first lines say how).  The build embeds them into the binary
 * (cli/lang/embed.cmake), so nothing is looked up on disk at run time.
 *
 * Keys are "section.name" as in the files: "report.title",
 * "sector.waste", "kind.measure", "month.12", "format.thousands".  A code
 * list's section is its schema enum name in snake case ("sector",
 * "vulnerable_sector", "target_kind"), its names the stable text names of
 * proto_enum_name().
 *
 * A struct lang is immutable once made and may be shared by threads.  The
 * strings it returns live as long as it does.
 */
#ifndef AGORA_CLI_LANG_H
#define AGORA_CLI_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LANG_DEFAULT "en"

/* The built-in languages, in order "en", "da", "pl", "nl": how many, and
 * the i-th code (static string; NULL past the end). */
size_t lang_count(void);
const char *lang_code_at(size_t i);

/* The built-in code equal to code ("da"; case-insensitive, a region such as
 * "da-DK" counts as "da"), as a static string, or NULL. */
const char *lang_known(const char *code);

/*
 * Choose a language from an HTTP Accept-Language value ("da-DK,da;q=0.9,
 * en;q=0.5"): the built-in language with the highest q (ties: the one
 * listed first; q=0 means "not this one"); "*" means any, English.  NULL,
 * an empty or unparsable header, or no built-in language listed: English.
 * Returns a static code.
 */
const char *lang_from_accept(const char *header);

/*
 * What --lang and the browser say together: the option when it names a
 * built-in language (lang_known), else lang_from_accept(header).  Returns a
 * static code; option may be NULL.
 */
const char *lang_choose(const char *option, const char *header);

struct lang;

/*
 * Parse the embedded words of language code (lang_known's rule) and of
 * English for the fallback.  *out is written only on success; free it with
 * lang_free.  Returns 0, -ENOENT (not a built-in language), -ENOMEM, or
 * -EINVAL when an embedded file does not parse (a test catches that).
 */
int lang_new(struct lang **out, const char *code);
void lang_free(struct lang *l);                   /* accepts NULL */

/* The language's code ("da"), static. */
const char *lang_id(const struct lang *l);

/*
 * The text of key: this language's, else English's, else the key itself
 * (so a missing word shows up as "report.title", never as nothing).
 */
const char *lang_text(const struct lang *l, const char *key);

/* The text of key in this language's own file only, or NULL (for tests). */
const char *lang_own(const struct lang *l, const char *key);

/* Is key listed in the file's [same] section: its text equals the English
 * on purpose ("CO2e", a loan word)? */
bool lang_same_as_english(const struct lang *l, const char *key);

/* Keys of this language's own file, sorted: how many, and the i-th
 * (NULL past the end). */
size_t lang_key_count(const struct lang *l);
const char *lang_key_at(const struct lang *l, size_t i);

/*
 * The name of a code-list value for people: lang_text of "list.code"
 * ("sector", "local_heat_cold_production" -> "Lokal varme- og
 * køleproduktion").  A code no file names (a newer schema's value) is
 * returned as given.  code may be NULL ("unspecified" is used).
 */
const char *lang_code_name(const struct lang *l, const char *list, const char *code);

/*
 * v with `decimals` decimals (0..9), the language's decimal sign and its
 * thousands separator ("950.000.000" in Danish, "950 000 000" with
 * no-break spaces in Polish); "-" for NaN and infinities, never "-0".
 * Writes at most cap bytes (cut if too short; 64 is always enough).
 */
void lang_fmt_number(const struct lang *l, char *buf, size_t cap, double v, int decimals);

/* An integer the same way ("12.500.000"). */
void lang_fmt_int(const struct lang *l, char *buf, size_t cap, int64_t v);

/*
 * A date in the language's long form ("6 December 2026", "6. december
 * 2026", "6 grudnia 2026"), from the file's format.date pattern and month
 * names; unix_s is read as UTC.  short_form: format.date_short
 * ("06.12.2026").  Writes at most cap bytes (cut if too short; 64 is
 * enough for every built-in pattern).
 */
void lang_fmt_date(const struct lang *l, char *buf, size_t cap, int64_t unix_s, bool short_form);

#endif
