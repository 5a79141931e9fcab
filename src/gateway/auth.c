/* auth.c - see auth.h. */
#include "auth.h"
#include "../proto/msg.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

int auth_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int auth_hash_password(const char *password, char out[STORE_PWHASH_MAX])
{
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int auth_verify_password(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password));
}

static void hash_hex(const char *verifier, size_t len, char out[STORE_HASH_HEX + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)verifier, len);
    sodium_bin2hex(out, STORE_HASH_HEX + 1, h, sizeof(h));
}

void auth_token_new(char token[AUTH_TOKEN_LEN + 1], char selector[STORE_SELECTOR_HEX + 1],
                    char verifier_hash[STORE_HASH_HEX + 1])
{
    unsigned char sel[16], ver[32];
    char ver_hex[65];
    randombytes_buf(sel, sizeof(sel));
    randombytes_buf(ver, sizeof(ver));
    sodium_bin2hex(selector, STORE_SELECTOR_HEX + 1, sel, sizeof(sel));
    sodium_bin2hex(ver_hex, sizeof(ver_hex), ver, sizeof(ver));
    memcpy(token, selector, STORE_SELECTOR_HEX);
    token[STORE_SELECTOR_HEX] = '.';
    memcpy(token + STORE_SELECTOR_HEX + 1, ver_hex, 65);
    hash_hex(ver_hex, 64, verifier_hash);
    sodium_memzero(ver, sizeof(ver));
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

int auth_token_parse(const char *token, char selector[STORE_SELECTOR_HEX + 1],
                     char verifier_hash[STORE_HASH_HEX + 1])
{
    if (strlen(token) != AUTH_TOKEN_LEN || token[STORE_SELECTOR_HEX] != '.') return -1;
    if (!is_hex(token, STORE_SELECTOR_HEX) || !is_hex(token + STORE_SELECTOR_HEX + 1, 64))
        return -1;
    memcpy(selector, token, STORE_SELECTOR_HEX);
    selector[STORE_SELECTOR_HEX] = '\0';
    hash_hex(token + STORE_SELECTOR_HEX + 1, 64, verifier_hash);
    return 0;
}

int auth_hash_equal(const char *a, const char *b)
{
    if (strlen(a) != STORE_HASH_HEX || strlen(b) != STORE_HASH_HEX) return 0;
    return sodium_memcmp(a, b, STORE_HASH_HEX) == 0;
}

int auth_username_check(const char *u, const char **reason)
{
    size_t n = strlen(u);
    if (n < AUTH_USERNAME_MIN || n > MSG_USERNAME_MAX) {
        *reason = "username must be 3 to 32 characters";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == '-')) {
            *reason = "username may contain only letters, digits, '_', '.' and '-'";
            return -1;
        }
    }
    return 0;
}
