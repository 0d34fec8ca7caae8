/*
 * web_text.h - every word `agora web` shows, as one struct per language, so
 * that the pages never hold a word themselves.  The words live in the [web]
 * section of cli/lang/<code>.ini (key "web.<field>", e.g. "web.nav_search"),
 * files a native speaker can correct; web_text_load reads them through
 * lang.h.  Strings are plain text: pages escape them.
 */
#ifndef AGORA_CLI_WEB_TEXT_H
#define AGORA_CLI_WEB_TEXT_H

#include <stddef.h>

#include "cli/lang/lang.h"

/* The fields of struct web_text, each the name of its key in [web]. */
#define WEB_TEXT_FIELDS(X) \
	X(footer) \
	X(nav_search) \
	X(nav_members) \
	X(nav_report) \
	X(nav_publish) \
	X(title_search) \
	X(title_error) \
	X(title_publish) \
	X(title_amend) \
	X(search_placeholder) \
	X(search_button) \
	X(any) \
	X(f_kind) \
	X(f_municipality) \
	X(f_sector) \
	X(f_area) \
	X(f_hazard) \
	X(f_status) \
	X(f_since) \
	X(f_until) \
	X(f_tag) \
	X(f_sort) \
	X(sort_default) \
	X(sort_newest) \
	X(sort_oldest) \
	X(no_match) \
	X(shown) \
	X(of) \
	X(next_page) \
	X(untitled) \
	X(unknown) \
	X(none) \
	X(r_kind) \
	X(r_signed_by) \
	X(r_signature) \
	X(r_alliance) \
	X(r_seq) \
	X(r_created) \
	X(r_state) \
	X(sig_ok) \
	X(sig_bad) \
	X(new_version) \
	X(st_current) \
	X(st_superseded) \
	X(st_superseded_by) \
	X(st_retracted) \
	X(st_retraction) \
	X(h_fields) \
	X(h_versions) \
	X(h_related) \
	X(h_change) \
	X(amend_link) \
	X(retract_reason) \
	X(retract_button) \
	X(add_result) \
	X(add_lesson) \
	X(endorse) \
	X(published_note) \
	X(publish_button) \
	X(amend_button) \
	X(default_alliance) \
	X(h_profile) \
	X(h_targets) \
	X(h_inventories) \
	X(h_progress) \
	X(h_measures) \
	X(h_results) \
	X(h_lessons) \
	X(legend_inventory) \
	X(legend_path) \
	X(m_country) \
	X(m_role) \
	X(m_records) \
	X(m_active) \
	X(m_revoked) \
	X(m_expired) \
	X(m_not_member) \
	X(m_equivocating) \
	X(h_node) \
	X(node_not_running) \
	X(node_error) \
	X(node_records) \
	X(node_feeds) \
	X(node_uptime) \
	X(p_peer) \
	X(p_address) \
	X(p_lag) \
	X(p_error) \
	X(report_alone) \
	X(err_not_found) \
	X(err_method) \
	X(err_host) \
	X(err_too_big) \
	X(err_form) \
	X(err_token) \
	X(err_form_type) \
	X(err_csrf) \
	X(err_origin) \
	X(err_store) \
	X(err_memory) \
	X(err_kind) \
	X(err_code) \
	X(err_year) \
	X(err_municipality) \
	X(err_prefix) \
	X(err_no_record) \
	X(err_ambiguous) \
	X(err_damaged) \
	X(err_no_town) \
	X(err_read_only) \
	X(err_alliance) \
	X(err_field) \
	X(err_not_yours) \
	X(err_retracted) \
	X(err_cannot_amend) \
	X(title_admit) \
	X(admit_about) \
	X(admit_link) \
	X(a_key) \
	X(a_key_hint) \
	X(a_name) \
	X(a_expires) \
	X(a_expires_hint) \
	X(admit_button) \
	X(title_invite) \
	X(invite_about) \
	X(invite_link) \
	X(i_expires_hint) \
	X(i_address) \
	X(i_address_hint) \
	X(invite_button) \
	X(invite_code) \
	X(invite_join) \
	X(title_revoke) \
	X(revoke_about) \
	X(revoke_link) \
	X(revoke_warning) \
	X(r_reason) \
	X(r_after) \
	X(r_after_hint) \
	X(r_confirm) \
	X(err_confirm) \
	X(revoke_button) \
	X(only_coordinator) \
	X(coordinators_of) \
	X(feed_link) \
	X(feed_title) \
	X(h_files) \
	X(file_not_fetched) \
	X(attach_label) \
	X(attach_button) \
	X(err_upload) \
	X(err_file_too_big) \
	X(err_file_damaged) \
	X(err_no_file) \
	X(err_no_files_here)

struct web_text {
	const char *lang;   /* the page's language (the html lang attribute) */
#define WEB_TEXT_FIELD(name) const char *name;
	WEB_TEXT_FIELDS(WEB_TEXT_FIELD)
#undef WEB_TEXT_FIELD
};

/*
 * Fill *out with the words of language l: each field is lang_text(l,
 * "web.<field>"), so a word l's file lacks is the English one, and one no
 * file has shows as its key.  The strings are borrowed from l and live as
 * long as it does.
 */
void web_text_load(struct web_text *out, const struct lang *l);

/* The i-th key web_text_load reads ("web.footer"), a static string, or NULL
 * past the last (tests check every language has each). */
const char *web_text_key(size_t i);

#endif
