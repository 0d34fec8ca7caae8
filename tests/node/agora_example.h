/*
 * agora_example.h - the worked example of proto/PROTOCOL.md section 3:
 * Ed25519 seeds 00..1f (initiator) and 20..3f (responder), ephemeral
 * X25519 private keys 40..5f (initiator) and 60..7f (responder), prologue
 * "agora/1".  noise_test.c checks that the code still produces exactly
 * these bytes.
 */
#ifndef AGORA_TESTS_NODE_EXAMPLE_H
#define AGORA_TESTS_NODE_EXAMPLE_H

#define EXAMPLE_ED_PK_I "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define EXAMPLE_ED_PK_R "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
#define EXAMPLE_MSG1 "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
#define EXAMPLE_MSG2 "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f2f6863f716454020541827948980831fb33b357a52fe2034e54c94271298098bdb1ccbf7ef4bf11d55e5b5f67e4e88b0409f51c2d11d6c8ca8e436f9d0ae27d3dd64b2175133a238e02594d1c9b674e96f2f9b637a2176d8e90d91918ce87f9b"
#define EXAMPLE_MSG3 "d0b3a364d54a8ba62df0251a428f8866e7a355b828556fee774f34a922335544e66a6b15cbe2ac94de11ebf0df83e6bb079c422b45bfb30e27d05b744a6d9c747a89564ebe02760fb28b03f7a0af679da7eef674179a96a7eac17740b2fa2176"
#define EXAMPLE_HASH "3f27f699b194a4722c36d2c5866c0170d73af47445e888e0aba536c19543c6a5ed8b77ec9ffb8ce1b3f9384dd808377ec7a80c88733e9903fd3ac4fa39c4cdd0"
#define EXAMPLE_APP1 "00213c5fd426d91a4b67131ba9e859556b3313b1ff5b3a8ff0f355be3c4769e961f0fb"

#endif
