/*
 * web_text.h - every word `agora web` shows, in one place, so that the
 * interface can be translated (one struct web_text per language) without
 * touching the pages.  Strings are plain text: pages escape them.
 * English is web_text_en (web_text.c).
 */
#ifndef AGORA_CLI_WEB_TEXT_H
#define AGORA_CLI_WEB_TEXT_H

struct web_text {
	const char *lang;   /* the page's language (the html lang attribute) */
	const char *footer;
	const char *nav_search;
	const char *nav_members;
	const char *nav_report;
	const char *nav_publish;
	const char *title_search;
	const char *title_error;
	const char *title_publish;
	const char *title_amend;
	const char *search_placeholder;
	const char *search_button;
	const char *any;
	const char *f_kind;
	const char *f_municipality;
	const char *f_sector;
	const char *f_area;
	const char *f_hazard;
	const char *f_status;
	const char *f_since;
	const char *f_until;
	const char *f_tag;
	const char *f_sort;
	const char *sort_default;
	const char *sort_newest;
	const char *sort_oldest;
	const char *no_match;
	const char *shown;
	const char *of;
	const char *next_page;
	const char *untitled;
	const char *unknown;
	const char *none;
	const char *r_kind;
	const char *r_signed_by;
	const char *r_signature;
	const char *r_alliance;
	const char *r_seq;
	const char *r_created;
	const char *r_state;
	const char *sig_ok;
	const char *sig_bad;
	const char *new_version;
	const char *st_current;
	const char *st_superseded;
	const char *st_superseded_by;
	const char *st_retracted;
	const char *st_retraction;
	const char *h_fields;
	const char *h_versions;
	const char *h_related;
	const char *h_change;
	const char *amend_link;
	const char *retract_reason;
	const char *retract_button;
	const char *add_result;
	const char *add_lesson;
	const char *endorse;
	const char *published_note;
	const char *publish_button;
	const char *amend_button;
	const char *default_alliance;
	const char *h_profile;
	const char *h_targets;
	const char *h_inventories;
	const char *h_progress;
	const char *h_measures;
	const char *h_results;
	const char *h_lessons;
	const char *legend_inventory;
	const char *legend_path;
	const char *m_country;
	const char *m_role;
	const char *m_records;
	const char *m_active;
	const char *m_revoked;
	const char *m_expired;
	const char *m_not_member;
	const char *m_equivocating;
	const char *h_node;
	const char *node_not_running;
	const char *node_error;
	const char *node_records;
	const char *node_feeds;
	const char *node_uptime;
	const char *p_peer;
	const char *p_address;
	const char *p_lag;
	const char *p_error;
	const char *report_alone;
	const char *err_not_found;
	const char *err_method;
	const char *err_host;
	const char *err_too_big;
	const char *err_form;
	const char *err_token;
	const char *err_form_type;
	const char *err_csrf;
	const char *err_origin;
	const char *err_store;
	const char *err_memory;
	const char *err_kind;
	const char *err_code;
	const char *err_year;
	const char *err_municipality;
	const char *err_prefix;
	const char *err_no_record;
	const char *err_ambiguous;
	const char *err_damaged;
	const char *err_no_town;
	const char *err_read_only;
	const char *err_alliance;
	const char *err_field;
	const char *err_not_yours;
	const char *err_retracted;
	const char *err_cannot_amend;
};

extern const struct web_text web_text_en;

#endif
