/*
 * redact.h - secret redaction: every byte that logtriage stores (SQLite) or
 * writes (reports, JSON, chart data) passes through redact_append() first.
 *
 * A secret is replaced by a marker "[REDACTED:xxxxxx]", where xxxxxx is the
 * first 6 lowercase hex digits of SipHash-2-4 of the secret's bytes under a
 * 16-byte key chosen by the caller (logtriage keeps one random key per
 * database). The same secret gives the same marker in every record, so two
 * lines can be correlated ("same password on both services") without the
 * secret being readable. "First 6 digits" means the 64-bit hash printed as
 * 16 hex digits, most significant first, cut to 6 (bits 63..40).
 *
 * Only the secret is replaced; the text around it is kept byte for byte:
 *
 *	postgresql://app:[REDACTED:3f2a9c]@postgres.railway.internal:5432/db
 *	Authorization: Bearer [REDACTED:9d01e4]
 *	JWT_SECRET_KEY=[REDACTED:52c7aa]
 *	{"password": "[REDACTED:0be361]"}
 *
 * What counts as a secret (the unit tests hold one example of each shape):
 *
 *  - URL userinfo passwords: scheme://user:PASSWORD@host for any scheme
 *    (postgres, postgresql+asyncpg, mysql+pymysql, redis, rediss, amqp,
 *    mongodb+srv, https...), also JSON-escaped ":\/\/". The user is kept.
 *  - Values of names that say "secret": NAME=v, NAME="v", NAME='v',
 *    NAME: v, "name": "v" (JSON, also \"name\": \"v\" inside a JSON
 *    string), 'name': 'v' (Python repr), name='v' (kwargs), ?name=v&,
 *    NAME => v, NAME := v, --name=v and --name v, and env tables
 *    "NAME | v" / "NAME │ v" (U+2502, railway variables). A name says "secret" when,
 *    split into words at '_', '-', '.' and camelCase, it contains
 *    password, passwd, passphrase or secret; ends in a word ending in
 *    "token" or contains such a word (ACCESS_TOKEN, csrfToken,
 *    GITHUB_TOKEN_V2); has "key" after another word (API_KEY, apiKey,
 *    x-api-key, JWT_SECRET_KEY, AWS_ACCESS_KEY_ID) or a word like apikey,
 *    accesskey, privatekey; or ends in "pwd" or "pass" after another word
 *    (DB_PWD, REDIS_PASS). Not secret: names whose last word describes the
 *    secret rather than holding it (token_type, token_uri, password_reset,
 *    secret_name, key_prefix, ...), keys of data structures (primary_key,
 *    cache_key, public_key, publishable_key, partition_key, ...), and the
 *    bare words key, pass and PWD (the shell's working directory).
 *    password_hash counts as secret: a leaked hash can be cracked offline,
 *    so the bcrypt value echoed in SQL parameters is replaced (the SQL
 *    placeholder %(password_hash)s, a name without a value, stays).
 *    "NAME= other=x" is an empty NAME, not the value "other=x".
 *  - HTTP credentials: Authorization and Proxy-Authorization keep their
 *    scheme ("Bearer ", "Basic ", "Token ") and lose the credentials;
 *    parameter schemes (Digest, AWS4-HMAC-SHA256, OAuth) lose everything
 *    after the scheme; without a known scheme, the first token goes if it
 *    looks random ("authorization: failed for user 42" stays). "Bearer
 *    <token>" anywhere else, when the token has at least 8 characters and
 *    looks random (see below).
 *  - Cookies: in Cookie headers every cookie's value is replaced and the
 *    names are kept (any cookie may be a session credential); in
 *    Set-Cookie only the cookie's value, its attributes (Path, Expires,
 *    HttpOnly...) are kept.
 *  - JWTs anywhere (eyJ....eyJ....signature), whole.
 *  - PEM private keys, "-----BEGIN ... PRIVATE KEY-----" to the matching
 *    END line, whole, across newlines; a block cut off before its END line
 *    is replaced up to the end of the record (or a quote). Certificates and
 *    public keys are not secrets and stay.
 *  - Vendor keys with a recognizable shape: AWS access key ids (AKIA/ASIA),
 *    Google API keys (AIza...) and OAuth access tokens (ya29.), Stripe
 *    secret and restricted keys (sk_live_, sk_test_, rk_live_, rk_test_)
 *    and webhook secrets (whsec_), OpenAI/Anthropic-style sk-... keys,
 *    GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), GitLab (glpat-),
 *    Slack (xoxb-, xoxp-, ...), SendGrid (SG.x.y), npm (npm_), Hugging
 *    Face (hf_), and bcrypt/argon2 password hashes. Stripe publishable
 *    keys (pk_live_, pk_test_) are public by design and stay, unless they
 *    sit under a secret-looking name. Railway and Heroku tokens are plain
 *    UUIDs: only their names (RAILWAY_TOKEN=...) give them away.
 *
 * What stays, on purpose: values that are not secrets but say something
 * about one -- empty values, None/null/nil/undefined/true/false, "****",
 * SQL and format placeholders (%s, %(name)s, ?), references ($VAR,
 * ${VAR}, $(command), {{ var }}), values starting with '[', '{' or '('
 * (structures, "[FILTERED]"), code such as
 * SECRET_KEY = os.environ["JWT_SECRET_KEY"] (a value that is a dotted
 * name followed by '(' or '['), and markers already written, so redacting
 * twice gives the same text. When the evidence is weak -- a lowercase
 * word name, a ':' and an unquoted value, as in "Invalid token: Signature
 * has expired", or "Bearer" outside an Authorization header -- the value
 * is replaced only if it looks random: letters and digits, or at least 16
 * bytes with a quarter each of upper and lower case, or at least 40 bytes.
 *
 * Unquoted values end at whitespace, a quote, '&', ',', ';',
 * ')', '}', ']', '|', '<', '>' or a backslash (the start of \n inside a
 * JSON string); quoted values end at their closing quote (backslash
 * escapes honoured) or at the end of the line.
 *
 * Cost: redact_may_contain() is one pass of table lookups with no regex;
 * ordinary log lines never reach PCRE2. Each detector runs only on text
 * that holds its own literal. All patterns are linear in the input length;
 * if PCRE2 gives up anyway (match limit), the text from where that
 * detector was searching to the end of the input is replaced: redaction
 * fails closed, never open.
 */
#ifndef LOGTRIAGE_REDACT_H
#define LOGTRIAGE_REDACT_H

#include "common.h"
#include "buf.h"

/* Bytes in a marker: "[REDACTED:" + 6 hex digits + "]". */
#define REDACT_MARKER_LEN 17

/*
 * Secrets kept per redact_append() call. A record holding more is
 * pathological: everything from the first secret to the end of the input
 * becomes one marker.
 */
#define REDACT_MAX_SPANS 4096

/*
 * The compiled detectors, the key and scratch space. Opaque. Not thread
 * safe: redact_append() writes to its scratch space, so give each thread
 * its own.
 */
struct redact;

/*
 * Compile the detectors; key is 16 bytes and is copied. Returns a new
 * redactor, or NULL with *err (if err is not NULL) pointing at a static
 * message, valid until the next failing redact_new() call, when a built-in
 * pattern does not compile or PCRE2 runs out of memory. The caller frees
 * the redactor with redact_free().
 */
struct redact *redact_new(const unsigned char key[16], const char **err);

/* Free r and everything it owns. NULL is fine. */
void redact_free(struct redact *r);

/*
 * Append s[0..len) to out with every secret replaced by its marker. s may
 * contain NUL bytes and invalid UTF-8 and need not be NUL-terminated; it is
 * only read. What is appended is valid UTF-8 without NUL bytes: s is made
 * so first, as buf_add_utf8() does (each NUL and each invalid byte becomes
 * U+FFFD), and that text is what the detectors read, so that no secret
 * hides behind a byte that is replaced after redaction. Overlapping
 * secrets found by different detectors become one marker. The result is
 * settled: redacting it again changes nothing (a marker changes the bytes
 * next to a secret, so the detectors run again over their own output
 * until they find nothing more). Returns the number of markers written;
 * 0 means no secret was found and out received s (made valid UTF-8).
 * Never fails (out of memory exits, see xmalloc). It runs the
 * redact_may_contain() check itself: callers need not call it first.
 */
int redact_append(struct redact *r,	/* its scratch space is reused */
		  const char *s,	/* the text, not NUL-terminated */
		  size_t len,		/* bytes of s */
		  struct buf *out);	/* OUT: the redacted text is appended */

/*
 * The cheap check (no regex, one pass, no allocation): could s[0..len)
 * contain a secret at all? False means redact_append() would copy s
 * unchanged (made valid UTF-8), always: redact_append() itself runs only
 * the detectors whose literals this check finds. True means "look
 * closer", and is common (any "key" or "token" says true).
 */
bool redact_may_contain(const char *s, size_t len);

/*
 * How the key/value detector reads a name (NAME=value, "name": ...):
 *  REDACT_NAME_PLAIN          not a secret's name: the value stays
 *  REDACT_NAME_SECRET         the whole value is a secret
 *  REDACT_NAME_AUTHORIZATION  HTTP Authorization: keep the scheme
 *  REDACT_NAME_COOKIE         Cookie: replace each cookie's value
 *  REDACT_NAME_SET_COOKIE     Set-Cookie: replace the first value only
 */
enum redact_name_class {
	REDACT_NAME_PLAIN,
	REDACT_NAME_SECRET,
	REDACT_NAME_AUTHORIZATION,
	REDACT_NAME_COOKIE,
	REDACT_NAME_SET_COOKIE
};

#ifdef LOGTRIAGE_TESTING
/* Test hooks, for tests/unit/t_redact.c only. */
/* SipHash-2-4 of p[0..len) under key. */
uint64_t redact_siphash(const unsigned char key[16], const void *p, size_t len);
/* How the key/value detector reads a name (no quotes, no leading "--"). */
enum redact_name_class redact_classify_name(const char *name, size_t len);
/* Run every detector whatever the prefilter says (true), or not (false). */
extern bool redact_skip_prefilter;
/*
 * The prefilter's gate bits for s: as redact_append() computes them, or
 * (every_byte) by testing every byte for a literal, the slow reference.
 */
unsigned redact_prefilter_gates(const char *s, size_t len, bool every_byte);
/* Set the PCRE2 match limit of r, to exercise the fail-closed path. */
void redact_set_match_limit(struct redact *r, uint32_t limit);
#endif

#endif
