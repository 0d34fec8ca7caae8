/*
 * fixtures.c - valid records of every kind for the agora_proto tests.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fixtures.h"

struct proto_key *fixture_key(uint8_t pattern)
{
	uint8_t seed[PROTO_SEED_BYTES];
	struct proto_key *key = NULL;

	memset(seed, pattern, sizeof(seed));
	assert_int_equal(proto_key_from_seed(&key, seed), 0);
	return key;
}

static ProtobufCBinaryData bin(uint8_t *p, size_t n)
{
	ProtobufCBinaryData b = { n, p };
	return b;
}

static void init_measure(struct fixture *f, Agora__Measure *m)
{
	agora__measure__init(m);
	agora__translation__init(&f->translation);
	f->translation.language = "en";
	f->translation.title = "Wetland restoration at Gamborg Fjord";
	f->translations[0] = &f->translation;
	m->title = "Vådområde ved Gamborg Fjord";
	m->summary = "Genopretning af 40 ha vådområde.\nFase 1 og 2.";
	m->language = "da";
	m->n_translations = 1;
	m->translations = f->translations;
	m->has_mitigation = 1;
	m->mitigation = 1;
	m->has_adaptation = 1;
	m->adaptation = 1;
	m->has_sector = 1;
	m->sector = AGORA__SECTOR__SECTOR_AGRICULTURE_FORESTRY_FISHERIES;
	f->areas[0] = AGORA__AREA__AREA_WETLANDS;
	f->areas[1] = AGORA__AREA__AREA_CLIMATE_PROOFING;
	m->n_areas = 2;
	m->areas = f->areas;
	f->hazards[0] = AGORA__HAZARD__HAZARD_COASTAL_FLOOD;
	m->n_hazards = 1;
	m->hazards = f->hazards;
	m->has_status = 1;
	m->status = AGORA__STATUS__STATUS_ONGOING;
	m->has_start_year = 1;
	m->start_year = 2021;
	m->has_end_year = 1;
	m->end_year = 2026;
	m->has_investment = 1;
	m->investment = 12500000;
	m->currency = "DKK";
	m->has_reduction_tco2e = 1;
	m->reduction_tco2e = 850.5;
	f->tags[0] = "wetlands";
	f->tags[1] = "nature";
	m->n_tags = 2;
	m->tags = f->tags;
	f->links[0] = "https://assens.dk/vaadomraader";
	m->n_links = 1;
	m->links = f->links;
}

void fixture_init(struct fixture *f, enum proto_kind kind, const struct proto_key *key)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->author, key->pk, 32);
	memset(f->alliance, 0xa1, 32);
	memset(f->prev, 0xb2, 32);
	memset(f->other, 0xc3, 32);
	memset(f->sig, 0xd4, 64);

	agora__record__init(&f->rec);
	f->rec.has_author = 1;
	f->rec.author = bin(f->author, 32);
	f->rec.has_created_ms = 1;
	f->rec.created_ms = NOW_MS - 1000;
	f->rec.has_seq = 1;
	if (kind == PROTO_KIND_CHARTER) {
		f->rec.seq = 1;
	} else {
		f->rec.seq = 2;
		f->rec.has_prev = 1;
		f->rec.prev = bin(f->prev, 32);
		f->rec.has_alliance = 1;
		f->rec.alliance = bin(f->alliance, 32);
	}
	f->rec.body_case = (Agora__Record__BodyCase)kind;

	switch (kind) {
	case PROTO_KIND_CHARTER:
		agora__charter__init(&f->charter);
		f->charter.name = "DK2020";
		f->charter.description = "Danish climate alliance of municipalities.";
		f->coordinators[0] = bin(f->author, 32);
		f->coordinators[1] = bin(f->other, 32);
		f->charter.n_coordinators = 2;
		f->charter.coordinators = f->coordinators;
		f->charter.has_policy = 1;
		f->charter.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_THRESHOLD;
		f->charter.has_threshold = 1;
		f->charter.threshold = 2;
		f->charter.language = "da";
		f->rec.charter = &f->charter;
		break;
	case PROTO_KIND_ADMISSION:
		agora__admission__init(&f->admission);
		f->admission.has_member = 1;
		f->admission.member = bin(f->other, 32);
		f->admission.name = "Assens Kommune";
		f->admission.country = "DK";
		f->admission.has_role = 1;
		f->admission.role = AGORA__ROLE__ROLE_MEMBER;
		f->rec.admission = &f->admission;
		break;
	case PROTO_KIND_REVOCATION:
		agora__revocation__init(&f->revocation);
		f->revocation.has_member = 1;
		f->revocation.member = bin(f->other, 32);
		f->revocation.has_last_seq = 1;
		f->revocation.last_seq = 17;
		f->revocation.reason = "Left the alliance.";
		f->rec.revocation = &f->revocation;
		break;
	case PROTO_KIND_KEY_ROTATION:
		agora__key_rotation__init(&f->key_rotation);
		f->key_rotation.has_new_key = 1;
		f->key_rotation.new_key = bin(f->other, 32);
		f->key_rotation.has_new_key_signature = 1;
		f->key_rotation.new_key_signature = bin(f->sig, 64);
		f->rec.key_rotation = &f->key_rotation;
		break;
	case PROTO_KIND_PROFILE:
		agora__profile__init(&f->profile);
		f->profile.name = "Assens Kommune";
		f->profile.country = "DK";
		f->profile.has_population = 1;
		f->profile.population = 40000;
		f->profile.has_area_km2 = 1;
		f->profile.area_km2 = 511.4;
		f->languages[0] = "da";
		f->languages[1] = "en-GB";
		f->profile.n_languages = 2;
		f->profile.languages = f->languages;
		f->profile.website = "https://www.assens.dk";
		f->rec.profile = &f->profile;
		break;
	case PROTO_KIND_TARGET:
		agora__target__init(&f->target);
		f->target.has_type = 1;
		f->target.type = AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION;
		f->target.title = "70 % by 2030";
		f->target.has_baseline_year = 1;
		f->target.baseline_year = 1990;
		f->target.has_baseline_tco2e = 1;
		f->target.baseline_tco2e = 520000;
		f->target.has_target_year = 1;
		f->target.target_year = 2030;
		f->target.has_reduction_pct = 1;
		f->target.reduction_pct = 70;
		f->target.has_scope = 1;
		f->target.scope = AGORA__SCOPE__SCOPE_TERRITORIAL;
		f->rec.target = &f->target;
		break;
	case PROTO_KIND_INVENTORY:
		agora__inventory__init(&f->inventory);
		f->inventory.has_type = 1;
		f->inventory.type = AGORA__INVENTORY_KIND__INVENTORY_KIND_MEI;
		f->inventory.has_year = 1;
		f->inventory.year = 2022;
		for (int i = 0; i < 3; i++) {
			agora__sector_emission__init(&f->sector[i]);
			f->sectors[i] = &f->sector[i];
			f->sector[i].has_sector = 1;
			f->sector[i].has_tco2e = 1;
		}
		f->sector[0].sector = AGORA__SECTOR__SECTOR_RESIDENTIAL_BUILDINGS;
		f->sector[0].tco2e = 41000;
		f->sector[0].has_mwh = 1;
		f->sector[0].mwh = 210000;
		f->sector[1].sector = AGORA__SECTOR__SECTOR_TRANSPORT_PRIVATE_COMMERCIAL;
		f->sector[1].tco2e = 98000;
		f->sector[2].sector = AGORA__SECTOR__SECTOR_AGRICULTURE_FORESTRY_FISHERIES;
		f->sector[2].tco2e = -3500;     /* a net sink */
		f->inventory.n_sectors = 3;
		f->inventory.sectors = f->sectors;
		f->inventory.factor_source = "Energistyrelsen 2022";
		f->rec.inventory = &f->inventory;
		break;
	case PROTO_KIND_MEASURE:
		init_measure(f, &f->measure);
		f->rec.measure = &f->measure;
		break;
	case PROTO_KIND_RESULT:
		agora__result__init(&f->result);
		f->result.has_measure = 1;
		f->result.measure = bin(f->other, 32);
		f->result.has_year = 1;
		f->result.year = 2024;
		f->result.indicator = "restored wetland area";
		f->result.has_value = 1;
		f->result.value = 38.5;
		f->result.unit = "ha";
		f->result.has_estimation = 1;
		f->result.estimation = AGORA__ESTIMATION__ESTIMATION_MEASURED;
		f->rec.result = &f->result;
		break;
	case PROTO_KIND_LESSON:
		agora__lesson__init(&f->lesson);
		f->lesson.title = "Landowners first";
		f->lesson.worked = "Talking to every landowner before drawing any map.";
		f->barriers[0] = AGORA__BARRIER__BARRIER_SOCIAL;
		f->barriers[1] = AGORA__BARRIER__BARRIER_REGULATORY;
		f->lesson.n_barriers = 2;
		f->lesson.barriers = f->barriers;
		f->lesson.language = "en";
		f->lesson_measures[0] = bin(f->other, 32);
		f->lesson.n_measures = 1;
		f->lesson.measures = f->lesson_measures;
		f->rec.lesson = &f->lesson;
		break;
	case PROTO_KIND_ENDORSEMENT:
		agora__endorsement__init(&f->endorsement);
		f->endorsement.has_target = 1;
		f->endorsement.target = bin(f->other, 32);
		f->endorsement.note = "Best practice for the 2025 summit.";
		f->rec.endorsement = &f->endorsement;
		break;
	case PROTO_KIND_SUPERSEDE:
		agora__supersede__init(&f->supersede);
		f->supersede.has_target = 1;
		f->supersede.target = bin(f->other, 32);
		init_measure(f, &f->measure);
		f->supersede.body_case = AGORA__SUPERSEDE__BODY_MEASURE;
		f->supersede.measure = &f->measure;
		f->rec.supersede = &f->supersede;
		break;
	case PROTO_KIND_RETRACT:
		agora__retract__init(&f->retract);
		f->retract.has_target = 1;
		f->retract.target = bin(f->other, 32);
		f->retract.reason = "Published twice by mistake.";
		f->rec.retract = &f->retract;
		break;
	case PROTO_KIND_ENDPOINT:
		agora__endpoint__init(&f->endpoint);
		f->addresses[0] = "agora.assens.dk:7420";
		f->addresses[1] = "[2001:db8::7]:7420";
		f->endpoint.n_addresses = 2;
		f->endpoint.addresses = f->addresses;
		f->rec.endpoint = &f->endpoint;
		break;
	default:
		fail_msg("fixture_init: kind %d", kind);
	}
}

void fixture_sign(uint8_t **env, size_t *len, const struct fixture *f, const struct proto_key *key)
{
	struct proto_error err = { 0 };
	int rc = proto_record_sign(env, len, NULL, &f->rec, key, NOW_MS, &err);

	if (rc != 0)
		fail_msg("sign failed: %s (%s: %s)", proto_strerror(rc), err.field, err.msg);
}

void fixture_envelope_raw(uint8_t **env, size_t *len, const uint8_t *rec, size_t rec_len,
                          const struct proto_key *key)
{
	size_t n = 0, v = rec_len;
	uint8_t *e = malloc(rec_len + 80);

	assert_non_null(e);
	e[n++] = 0x0a;
	while (v >= 0x80) {
		e[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	e[n++] = (uint8_t)v;
	memcpy(e + n, rec, rec_len);
	n += rec_len;
	e[n++] = 0x12;
	e[n++] = 0x40;
	crypto_sign_detached(e + n, NULL, rec, rec_len, key->sk);
	n += 64;
	*env = e;
	*len = n;
}

void w_raw(struct wbuf *w, const void *p, size_t n)
{
	assert_true(n <= sizeof(w->b) - w->n);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

void w_varint(struct wbuf *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	w_raw(w, b, n);
}

void w_tag(struct wbuf *w, uint32_t num, unsigned wire_type)
{
	w_varint(w, (uint64_t)num << 3 | wire_type);
}

void w_len(struct wbuf *w, uint32_t num, const void *p, size_t n)
{
	w_tag(w, num, 2);
	w_varint(w, n);
	w_raw(w, p, n);
}

void w_uint(struct wbuf *w, uint32_t num, uint64_t v)
{
	w_tag(w, num, 0);
	w_varint(w, v);
}

void w_msg(struct wbuf *w, uint32_t num, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	assert_int_equal(protobuf_c_message_pack(m, b), n);
	w_len(w, num, b, n);
	free(b);
}

void w_header(struct wbuf *w, const struct fixture *f)
{
	Agora__Record head = f->rec;
	size_t n;

	head.body_case = AGORA__RECORD__BODY__NOT_SET;
	n = agora__record__get_packed_size(&head);
	assert_true(n <= sizeof(w->b) - w->n);
	w->n += agora__record__pack(&head, w->b + w->n);
}

int open_raw(Agora__Record **rec, const struct wbuf *w, const struct proto_key *key,
             struct proto_error *err)
{
	uint8_t *env = NULL;
	size_t len = 0;
	int rc;

	*rec = NULL;
	fixture_envelope_raw(&env, &len, w->b, w->n, key);
	rc = proto_envelope_open(rec, env, len, NOW_MS, err);
	if (rc != 0)
		assert_null(*rec);
	free(env);
	return rc;
}
