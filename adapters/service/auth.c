/* Basic and Bearer authentication with a short-lived cache of verified
 * credentials (keyed by a SHA-256 of the header, never the secret itself). */
#define _DEFAULT_SOURCE
#include "auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define CACHE_SIZE 64
#define CACHE_MS 60000

typedef struct cached {
    char key[65];
    int64_t until;
    bpm_auth_user who;
} cached;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cached cache[CACHE_SIZE];

void bpm_auth_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool bpm_auth_hash_password(const char *password, char *out, size_t n)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt) &&
        !crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof salt))
        return false;
    struct crypt_data *cd = bpm_xcalloc(1, sizeof *cd);
    const char *h = crypt_r(password, salt, cd);
    bool ok = h && h[0] == '$';
    if (ok)
        snprintf(out, n, "%s", h);
    free(cd);
    return ok;
}

void bpm_auth_user_cleanup(bpm_auth_user *who)
{
    for (int i = 0; i < BPM_AUTH_MAX_GROUPS && who->groups[i]; i++) {
        free(who->groups[i]);
        who->groups[i] = NULL;
    }
}

static void copy_user(bpm_auth_user *dst, const bpm_auth_user *src)
{
    memset(dst, 0, sizeof *dst);
    snprintf(dst->id, sizeof dst->id, "%s", src->id);
    dst->admin = src->admin;
    for (int i = 0; i < BPM_AUTH_MAX_GROUPS && src->groups[i]; i++)
        dst->groups[i] = bpm_xstrdup(src->groups[i]);
}

static bool from_cache(const char *key, bpm_auth_user *who)
{
    int64_t now = bpm_session_wall_ms();
    bool hit = false;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHE_SIZE; i++)
        if (cache[i].until > now && strcmp(cache[i].key, key) == 0) {
            copy_user(who, &cache[i].who);
            hit = true;
            break;
        }
    pthread_mutex_unlock(&cache_mu);
    return hit;
}

static void to_cache(const char *key, const bpm_auth_user *who)
{
    int64_t now = bpm_session_wall_ms();
    pthread_mutex_lock(&cache_mu);
    int slot = 0;
    for (int i = 0; i < CACHE_SIZE; i++)
        if (cache[i].until < cache[slot].until)
            slot = i;
    bpm_auth_user_cleanup(&cache[slot].who);
    snprintf(cache[slot].key, sizeof cache[slot].key, "%s", key);
    cache[slot].until = now + CACHE_MS;
    copy_user(&cache[slot].who, who);
    pthread_mutex_unlock(&cache_mu);
}

static bool load_groups(bpm_session *s, bpm_auth_user *who)
{
    const char *p[1] = {who->id};
    PGresult *res = NULL;
    if (bpm_pg_query(s->pg, "select group_id from app_membership where user_id = $1 order by group_id", 1, p, NULL,
                     NULL, &res, "read the user's groups", NULL))
        return false;
    for (int i = 0; i < PQntuples(res) && i < BPM_AUTH_MAX_GROUPS; i++) {
        who->groups[i] = bpm_xstrdup(PQgetvalue(res, i, 0));
        if (strcmp(who->groups[i], "admin") == 0)
            who->admin = true;
    }
    PQclear(res);
    return true;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 into out (NUL-terminated); false on bad input. */
static bool b64decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64val(*in);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return false;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return strlen(out) == n; /* no NUL inside */
}

bool bpm_auth_verify_password(bpm_session *s, const char *user, const char *password)
{
    const char *p[1] = {user};
    PGresult *res = NULL;
    if (bpm_pg_query(s->pg, "select password_hash from app_user where id = $1", 1, p, NULL, NULL, &res,
                     "look up the user", NULL))
        return false;
    bool ok = false;
    if (PQntuples(res) == 1) {
        struct crypt_data *cd = bpm_xcalloc(1, sizeof *cd);
        const char *stored = PQgetvalue(res, 0, 0);
        const char *h = crypt_r(password, stored, cd);
        ok = h && strlen(h) == strlen(stored) && CRYPTO_memcmp(h, stored, strlen(stored)) == 0;
        free(cd);
    }
    PQclear(res);
    return ok;
}

int bpm_auth_check(bpm_session *s, const char *authorization, bpm_auth_user *who)
{
    memset(who, 0, sizeof *who);
    if (!authorization)
        return 401;
    char key[65];
    bpm_auth_sha256_hex(authorization, key);
    if (from_cache(key, who))
        return 0;
    if (strncasecmp(authorization, "Basic ", 6) == 0) {
        char plain[512];
        if (!b64decode(authorization + 6, plain, sizeof plain))
            return 401;
        char *colon = strchr(plain, ':'); /* the password may hold colons; the user may not */
        if (!colon)
            return 401;
        *colon = '\0';
        if (!bpm_auth_verify_password(s, plain, colon + 1) || strlen(plain) >= sizeof who->id)
            return 401;
        memcpy(who->id, plain, strlen(plain) + 1);
    } else if (strncasecmp(authorization, "Bearer ", 7) == 0) {
        char digest[65];
        bpm_auth_sha256_hex(authorization + 7, digest);
        const char *p[1] = {digest};
        PGresult *res = NULL;
        if (bpm_pg_query(s->pg, "select user_id from api_token where token_sha256 = $1", 1, p, NULL, NULL, &res,
                         "look up the token", NULL))
            return 401;
        if (PQntuples(res) != 1) {
            PQclear(res);
            return 401;
        }
        snprintf(who->id, sizeof who->id, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
    } else {
        return 401;
    }
    if (!load_groups(s, who))
        return 401;
    to_cache(key, who);
    return 0;
}
