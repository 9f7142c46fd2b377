/* Authentication: HTTP Basic against the users in the database (crypt(3)
 * hashes with a per-user salt) or a Bearer API token (kept as SHA-256), and
 * the user's groups; the admin group may run operator actions. Verified
 * credentials are remembered for a minute so a slow hash is not paid on
 * every request. */
#ifndef BPM_AUTH_H
#define BPM_AUTH_H

#include <stdbool.h>

#include "session.h"

#define BPM_AUTH_MAX_GROUPS 32

typedef struct bpm_auth_user {
    char id[128];
    bool admin;
    char *groups[BPM_AUTH_MAX_GROUPS + 1]; /* malloc'd, NULL-terminated */
} bpm_auth_user;

/* Checks an Authorization header value (may be NULL). 0 with *who filled
 * (bpm_auth_user_cleanup frees its groups), or 401. */
int bpm_auth_check(bpm_session *s, const char *authorization, bpm_auth_user *who);
void bpm_auth_user_cleanup(bpm_auth_user *who);

/* Whether password is user's (the crypt(3) hash compared in constant time);
 * false for an unknown user or when the database cannot answer. Pays the
 * hash's cost on every call (no cache). Strings borrowed. */
bool bpm_auth_verify_password(bpm_session *s, const char *user, const char *password);

/* A crypt(3) hash of password with a fresh salt into out; false when the
 * system offers no strong method. */
bool bpm_auth_hash_password(const char *password, char *out, size_t n);
/* SHA-256 of s as 64 hex digits into out[65]. */
void bpm_auth_sha256_hex(const char *s, char out[65]);

#endif
