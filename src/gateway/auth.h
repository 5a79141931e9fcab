/* auth.h - password hashing and session tokens (libsodium).
 *
 * Passwords: argon2id via crypto_pwhash_str (interactive limits).
 * Tokens: "<selector>.<verifier>", 16 + 32 random bytes as hex. The store
 * keeps the selector and sha-256(verifier); a lookup by selector then a
 * constant-time compare of the hashes means a timing side channel learns
 * nothing about the secret half. Functions here may run on worker threads. */
#ifndef WOD_AUTH_H
#define WOD_AUTH_H

#include "../store/store.h"

#include <stddef.h>

#define AUTH_TOKEN_LEN    (STORE_SELECTOR_HEX + 1 + 64) /* selector.verifier */
#define AUTH_USERNAME_MIN 3
#define AUTH_PASSWORD_MIN 8

/* Must be called once before threads use the other functions. */
int auth_init(void);
int auth_hash_password(const char *password, char out[STORE_PWHASH_MAX]);
int auth_verify_password(const char *hash, const char *password); /* 0 = match */
/* Makes a token; fills the selector and the hex hash to store. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], char selector[STORE_SELECTOR_HEX + 1],
                    char verifier_hash[STORE_HASH_HEX + 1]);
/* Splits a client token; -1 if it is not well-formed. */
int auth_token_parse(const char *token, char selector[STORE_SELECTOR_HEX + 1],
                     char verifier_hash[STORE_HASH_HEX + 1]);
/* Constant-time equality of two hex hashes. */
int auth_hash_equal(const char *a, const char *b);
/* Usernames: 3..32 of [A-Za-z0-9_.-]. Returns 0 or -1 with a reason. */
int auth_username_check(const char *username, const char **reason);

#endif
