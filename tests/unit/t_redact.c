/*
 * t_redact.c - unit tests for the redaction module (analyzer/redact.c):
 * SipHash-2-4 vectors, one case per secret shape with its exact output,
 * text that must stay byte-identical, and hostile input (NUL bytes,
 * invalid UTF-8, megabyte lines, pathological repetitions).
 *
 * A case is a template: "[[x]]" marks a secret x. The input is the
 * template without the brackets; the expected output has each secret
 * replaced by its marker, computed here from x with printf, so each case
 * pins exactly which bytes are the secret. Every case also checks that
 * redacting the output again changes nothing, that the prefilter lets
 * every secret through, and that running all detectors without the
 * prefilter gives the same text.
 */
#include "common.h"
#include "buf.h"
#include "redact.h"
#include "unit.h"

#include <time.h>

static const unsigned char test_key[16] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

static struct redact *rd;

/* Append the marker expected for the secret p[0..n). */
static void add_want_marker(struct buf *b, const char *p, size_t n)
{
	uint64_t h = redact_siphash(test_key, p, n);

	buf_addf(b, "[REDACTED:%06" PRIx64 "]", h >> 40);
}

/*
 * Expand template t: in gets the input, want the expected output. Returns
 * the number of secrets.
 */
static int expand(const char *t, struct buf *in, struct buf *want)
{
	int n = 0;
	const char *open;
	const char *close;

	buf_clear(in);
	buf_clear(want);
	while ((open = strstr(t, "[[")) != NULL) {
		close = strstr(open + 2, "]]");
		if (close == NULL)
			break;
		buf_add(in, t, (size_t)(open - t));
		buf_add(want, t, (size_t)(open - t));
		buf_add(in, open + 2, (size_t)(close - open - 2));
		add_want_marker(want, open + 2, (size_t)(close - open - 2));
		t = close + 2;
		n++;
	}
	buf_adds(in, t);
	buf_adds(want, t);
	return n;
}

/*
 * Redact p[0..n) from a heap copy with no NUL after it, so that the
 * sanitizers see any read past the end.
 */
static int redact_exact(const char *p, size_t n, struct buf *out)
{
	char *copy = xmalloc(n);
	int k;

	memcpy(copy, p, n);
	buf_clear(out);
	k = redact_append(rd, copy, n, out);
	free(copy);
	return k;
}

/* Two checks per case: the exact output, then the properties. */
static void check_case(const char *what, const char *tmpl)
{
	struct buf in, want, got, again, raw;
	int nwant;
	int n;
	int n2;
	int n3;
	bool may;
	bool ok;

	buf_init(&in);
	buf_init(&want);
	buf_init(&got);
	buf_init(&again);
	buf_init(&raw);
	nwant = expand(tmpl, &in, &want);
	n = redact_exact(in.p, in.len, &got);
	CHECK_STR(got.p, want.p, "%s", what);

	n2 = redact_exact(got.p, got.len, &again);
	redact_skip_prefilter = true;
	n3 = redact_exact(in.p, in.len, &raw);
	redact_skip_prefilter = false;
	may = redact_may_contain(in.p, in.len);
	ok = n == nwant && n2 == 0 && strcmp(again.p, got.p) == 0 &&
		n3 == n && strcmp(raw.p, got.p) == 0 && (may || n == 0);
	CHECK(ok, "%s: %d secret(s), idempotent, prefilter sound", what, nwant);
	if (!ok)
		printf("#   count %d (want %d), again %d '%s', "
		       "unfiltered %d '%s', may_contain %d\n",
		       n, nwant, n2, again.p, n3, raw.p, (int)may);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
	buf_release(&again);
	buf_release(&raw);
}

struct redact_case {
	const char *what;
	const char *tmpl;
};

#define JWT "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." \
	"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5" \
	"MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
#define BCRYPT "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
/* a PEM body, with real newlines and JSON-escaped ones */
#define PEM_BODY \
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n" \
	"MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
#define PEM_ESC \
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\\n" \
	"MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\\n"

/* One entry per shape; "[[...]]" is the secret. */
static const struct redact_case secret_cases[] = {
	/* URL userinfo */
	{ "postgresql url",
	  "postgresql://app:[[s3cr3t]]@postgres.railway.internal:5432/railway" },
	{ "postgres url in a log line",
	  "2024-03-01T12:00:00Z connecting to postgres://postgres:[[Xk9mQ2pLw]]@db.internal:5432/app?sslmode=require" },
	{ "postgresql+psycopg2 url",
	  "sqlalchemy.url = postgresql+psycopg2://app:[[hunter2]]@db:5432/app" },
	{ "postgresql+asyncpg url",
	  "engine=postgresql+asyncpg://app:[[a5yncPw]]@db.railway.internal/app" },
	{ "mysql url", "mysql://root:[[r00tpw]]@mysql:3306/shop" },
	{ "mysql+pymysql url",
	  "DATABASE_URL=mysql+pymysql://shop:[[pyMy5ql]]@mysql.railway.internal:3306/shop" },
	{ "redis url with user default",
	  "REDIS_URL=redis://default:[[AbCdEf123456]]@redis.railway.internal:6379" },
	{ "redis url with empty user",
	  "redis.from_url('redis://:[[only-a-password]]@redis:6379/0')" },
	{ "rediss url",
	  "rediss://default:[[tlsPass99]]@cache.upstash.io:6380" },
	{ "amqp url", "Connecting to amqp://guest:[[guest]]@rabbitmq:5672//" },
	{ "amqps url",
	  "broker_url='amqps://worker:[[w0rk3r]]@mq.example.com:5671/vhost'" },
	{ "mongodb url", "mongodb://admin:[[m0ng0]]@mongo:27017/admin" },
	{ "mongodb+srv url with %40 escapes",
	  "MONGO_URI=mongodb+srv://user:[[p%40ss%21word]]@cluster0.ab1cd.mongodb.net/?retryWrites=true&w=majority" },
	{ "https url with credentials",
	  "GET https://deploy:[[t0ps3cret]]@registry.example.com/v2/ failed" },
	{ "url password with a raw @",
	  "postgres://u:[[p@ss]]@host/db" },
	{ "url in JSON with escaped slashes",
	  "{\"msg\":\"connecting to postgresql:\\/\\/app:[[s3cr3t]]@db:5432\\/app\"}" },
	{ "url in a pydantic error",
	  "input_value={'DATABASE_URL': 'postgresql://app:[[pg-pw-1]]@db/app'}" },
	{ "git url with a GitHub app token as password (one marker)",
	  "git clone https://x-access-token:[[ghs_ESQedUStPKR0CsTy4Qwb8DwkNhFdnXsiVpzz]]@github.com/acme/api.git" },

	/* HTTP */
	{ "Authorization Bearer",
	  "Authorization: Bearer [[abc123def456ghi789]]" },
	{ "authorization bearer, lower case",
	  "authorization: bearer [[a1b2c3d4e5f6]]" },
	{ "Authorization Basic",
	  "Authorization: Basic [[dXNlcjpwYXNzd29yZA==]]" },
	{ "Authorization Token",
	  "Authorization: Token [[9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b]]" },
	{ "Authorization Digest parameters",
	  "Authorization: Digest [[username=\"bob\", realm=\"api\", nonce=\"dcd98b\", response=\"6629fae4\"]]" },
	{ "Authorization AWS4 with an access key id inside (one marker)",
	  "Authorization: AWS4-HMAC-SHA256 [[Credential=AKIAIOSFODNN7EXAMPLE/20240301/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024]]" },
	{ "Authorization without a scheme",
	  "Authorization: [[7f3a9b2c1d4e5f60]]" },
	{ "Proxy-Authorization Basic",
	  "Proxy-Authorization: Basic [[cHJveHk6c2VjcmV0]]" },
	{ "authorization in a Python dict repr",
	  "headers={'authorization': 'Bearer [[tok_9f8e7d6c5b4a]]', 'user-agent': 'python-httpx/0.27.0'}" },
	{ "authorization in JSON",
	  "{\"headers\":{\"Authorization\":\"Bearer [[gho_MehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8r]]\",\"Accept\":\"*/*\"}}" },
	{ "WSGI HTTP_AUTHORIZATION",
	  "environ: {'HTTP_AUTHORIZATION': 'Basic [[YWRtaW46YWRtaW4=]]', 'PATH_INFO': '/admin'}" },
	{ "Authorization inside a curl command",
	  "curl -s -H 'Authorization: Bearer [[a1b2c3d4e5f6g7h8]]' https://api.example.com/v1/me" },
	{ "Bearer JWT (one marker)",
	  "Authorization: Bearer [[" JWT "]]" },
	{ "Bearer token outside a header",
	  "retrying request with Bearer [[f9e8d7c6b5a40123]] after 401" },
	{ "X-Api-Key header", "X-Api-Key: [[3f9c2b7a1e8d4c6b]]" },
	{ "x-api-key in a dict repr",
	  "{'x-api-key': '[[live_8c1f0e2d3b4a5968]]', 'accept': 'application/json'}" },
	{ "Cookie header, every value",
	  "Cookie: session=[[eyJfaWQiOiJhYmMifQ]]; csrftoken=[[Xy7kP2qLm9]]; theme=[[dark]]" },
	{ "Set-Cookie keeps its attributes",
	  "Set-Cookie: session=[[0f1e2d3c4b5a6978]]; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly; Secure; SameSite=Lax" },
	{ "cookie in a dict repr",
	  "{'cookie': 'sessionid=[[abc123xyz]]; _ga=[[GA1.1.123.456]]', 'host': 'api'}" },

	/* JWTs */
	{ "JWT in free text", "issued token [[" JWT "]] for user 42" },
	{ "JWT anywhere, marked", "refreshed: [[" JWT "]] (exp 3600)" },
	{ "JWT in a query string (one marker)",
	  "GET /ws?token=[[" JWT "]]&v=2 HTTP/1.1" },
	{ "JWT with alg none and no signature",
	  "unsigned: [[eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.]] rejected" },

	/* key = value */
	{ "env NAME=value", "JWT_SECRET_KEY=[[change-me-in-prod]]" },
	{ "env NAME=\"value\"", "JWT_SECRET_KEY=\"[[same-key-everywhere]]\"" },
	{ "env NAME='value'", "export JWT_SECRET_KEY='[[k3y with spaces]]'" },
	{ "env NAME: value (YAML, compose)",
	  "  JWT_SECRET_KEY: [[s3cr3t-yaml]]" },
	{ "railway variables set",
	  "railway variables set JWT_SECRET_KEY=\"[[same-key-everywhere]]\"" },
	{ "railway variables table",
	  "\xe2\x95\x91 JWT_SECRET_KEY \xe2\x94\x82 [[Zx81kq0PL]] \xe2\x95\x91" },
	{ "env table with an ASCII pipe", "| DB_PASSWORD | [[pipe-pw-7]] |" },
	{ "JSON password", "{\"password\": \"[[hunter2]]\"}" },
	{ "JSON Password, capitalized, no blank",
	  "{\"Password\":\"[[Tr0ub4dor&3]]\",\"User\":\"bob\"}" },
	{ "JSON api_key",
	  "{\"api_key\": \"[[ak_12345abcde]]\", \"user\": \"bob\"}" },
	{ "JSON secret and token",
	  "{\"secret\": \"[[whisper]]\", \"token\": \"[[t0k3n]]\"}" },
	{ "OAuth response keeps token_type and expires_in",
	  "{\"access_token\": \"[[ya29.Dz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGB]]\", \"token_type\": \"Bearer\", \"expires_in\": 3599, \"refresh_token\": \"[[1//0gAbCdEf]]\"}" },
	{ "JSON client_secret",
	  "{\"client_id\": \"app-42\", \"client_secret\": \"[[cs_9f8e7d]]\"}" },
	{ "JSON camelCase names",
	  "{\"apiKey\": \"[[AK-778899]]\", \"clientSecret\": \"[[CS-112233]]\", \"userName\": \"bob\"}" },
	{ "JSON number value", "{\"pin_password\": [[123456]], \"tries\": 3}" },
	{ "JSON inside a JSON string",
	  "{\"log\":\"{\\\"password\\\": \\\"[[hunter2]]\\\", \\\"user\\\": \\\"bob\\\"}\"}" },
	{ "name after an escaped newline in a JSON string",
	  "{\"msg\":\"env loaded\\nDB_PASSWORD=[[pw-in-json]]\\nDEBUG=1\"}" },
	{ "password_hash in echoed SQL parameters (one marker)",
	  "[parameters: {'email': 'ana@example.com', 'password_hash': '[[" BCRYPT "]]'}]" },
	{ "kwargs in a repr",
	  "connect(host='db', user='app', password='[[kw4rg5]]', port=5432)" },
	{ "query string token",
	  "GET /reset?token=[[abc123def]]&next=/home HTTP/1.1" },
	{ "query string password",
	  "POST /login?user=bob&password=[[pa55word]] 401" },
	{ "--password value",
	  "pg_restore --username app --password [[cli-pw-1]] -d app" },
	{ "--password=value", "mysql -u root --password=[[cli-pw-2]] shop" },
	{ "--api-key value", "deploy --api-key [[k-4f5e6d7c]] --region eu" },
	{ "libpq keyword DSN",
	  "host=db user=app password=[[dsn-pw]] dbname=app sslmode=require" },
	{ "ADO.NET connection string",
	  "Server=db;User Id=app;Password=[[ado-pw]];Database=shop;" },
	{ "PGPASSWORD", "PGPASSWORD=[[pgpw]] psql -h db -U app" },
	{ "NAME= value", "DB_PASSWORD= [[hunter2]] DB_USER= app" },
	{ "_PASS and _PWD suffixes",
	  "REDIS_PASS=[[rp1]] DB_PWD=[[dp2]] PWD=/app" },
	{ "aws_secret_access_key (INI)",
	  "aws_secret_access_key = [[wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY]]" },
	{ "YAML password with a quoted value",
	  "    password: \"[[yaml-pw]]\"" },
	{ "Ruby hash rocket",
	  "{:password => \"[[rb-pw]]\", :user => \"bob\"}" },
	{ "Go short assignment", "token := \"[[go-tok-1]]\"" },
	{ "weak name, random value", "Invalid token: [[abc123XYZ]]" },
	{ "secret_key_base and CLIENT_SECRET",
	  "SECRET_KEY_BASE=[[3b1f0a]] CLIENT_SECRET=[[c5ecret]]" },
	{ "GITHUB_TOKEN_V2 contains _TOKEN", "GITHUB_TOKEN_V2=[[tok-v2-88]]" },
	{ "Stripe publishable key under a secret name",
	  "STRIPE_API_KEY=[[pk_live_SlB5er8bOfZqfM2oeq3hDavJ]]" },

	/* vendor keys */
	{ "AWS access key id", "aws_access_key_id=[[AKIAIOSFODNN7EXAMPLE]]" },
	{ "AWS access key id alone",
	  "using credentials [[AKIAIOSFODNN7EXAMPLE]] from env" },
	{ "AWS temporary key id",
	  "assumed role, key [[ASIAQ1KDFY6SPSC3LKR2]]" },
	{ "presigned S3 URL",
	  "https://b.s3.amazonaws.com/k?X-Amz-Credential=[[AKIAIOSFODNN7EXAMPLE]]%2F20240301%2Fus-east-1%2Fs3&X-Amz-Security-Token=[[FwoGZXIvYXdz]]&X-Amz-Expires=900" },
	{ "GCP API key",
	  "maps client: [[AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyV]]" },
	{ "GCP service account JSON",
	  "{\"type\": \"service_account\", \"private_key_id\": \"[[1a2b3c4d5e]]\", \"private_key\": \"[[-----BEGIN PRIVATE KEY-----\\n" PEM_ESC "-----END PRIVATE KEY-----\\n]]\", \"client_email\": \"svc@proj.iam.gserviceaccount.com\", \"token_uri\": \"https://oauth2.googleapis.com/token\"}" },
	{ "Google OAuth access token",
	  "token refreshed: [[ya29.Dz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGB]]" },
	{ "Stripe secret keys",
	  "stripe: [[sk_live_z4FkQ1okTBGzvAmwufUxbvJD]] / [[sk_test_CTbyvHNsG9eh6Yo4gfqrc5Xl]]" },
	{ "Stripe restricted key", "rk=[[rk_live_rWi0B26R08qzjI6GKFSufrdZ]]" },
	{ "Stripe webhook secret",
	  "verifying with [[whsec_A76rNicHTp8hkqdlm7tOtHWnsCGRlrwZ]]" },
	{ "GitHub personal token",
	  "remote: [[ghp_gJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCs]] is expired" },
	{ "GitHub fine-grained token",
	  "GH=[[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]]" },
	{ "GitLab token", "gitlab: [[glpat-gVvVqE1SkHbn88HxjSI6]]" },
	{ "Slack bot token",
	  "slack client init [[xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx]]" },
	{ "Slack user token",
	  "posting as [[xoxp-2222-3333-4444-abcdef0123456789]]" },
	{ "SendGrid key",
	  "mail via [[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]]" },
	{ "OpenAI-style key",
	  "openai.error.AuthenticationError: Incorrect API key provided: [[sk-proj-bqcabUGJmGEp7CgQ0PBQFI14zGtSnovm14TUOizwd1iaeOV4]]." },
	{ "npm token",
	  "//registry.npmjs.org/:_authToken=[[npm_vMdgaKjIg8xNbe3nNyjOq9wMxEhh2FDEEtfj]]" },
	{ "Hugging Face token",
	  "hub login [[hf_bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZp0z]]" },
	{ "bcrypt hash in positional parameters",
	  "[parameters: ('ana@example.com', '[[" BCRYPT "]]')]" },
	{ "argon2 hash",
	  "stored [[$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA]]" },

	/* PEM */
	{ "PEM private key, multi-line record",
	  "loading key:\n[[-----BEGIN RSA PRIVATE KEY-----\n" PEM_BODY "-----END RSA PRIVATE KEY-----]]\ndone" },
	{ "OpenSSH private key",
	  "[[-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----]]" },
	{ "PEM cut off before its END line",
	  "key follows [[-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49]]\n" },
	/* settled: what the first pass finds changes what the next sees */
	{ "a value glued to the next quoted name (found by fuzz_json)",
	  "token:\"[[g]]\"passwd\":[[r]]" },
	{ "glued values in a longer line",
	  "{\"passwd\":\"[[gh123r]]\"password\":[[x]] Bearer [[abcdglpat-34545678b]],\"level\":\"error\"}" },

	{ "encrypted PEM with headers",
	  "[[-----BEGIN ENCRYPTED PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,8F1A\n\nMIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQI\n-----END ENCRYPTED PRIVATE KEY-----]] ok" },
};

/* Text that must come out byte-identical. */
static const struct redact_case plain_cases[] = {
	{ "token expired", "token expired" },
	{ "Invalid token", "Invalid token" },
	{ "Signature has expired",
	  "jwt.exceptions.ExpiredSignatureError: Signature has expired" },
	{ "weak name, word value", "Invalid token: Signature has expired" },
	{ "KeyError names a variable", "KeyError: 'JWT_SECRET_KEY'" },
	{ "missing vars list",
	  "Missing required vars: ['JWT_SECRET_KEY', 'DATABASE_URL']" },
	{ "traceback source line with a subscript",
	  "    SECRET_KEY = os.environ[\"JWT_SECRET_KEY\"]" },
	{ "traceback source line with a call",
	  "    token = request.headers.get(\"Authorization\")" },
	{ "jwt.decode call",
	  "    payload = jwt.decode(token, SECRET_KEY, algorithms=[\"HS256\"])" },
	{ "postgres url without password",
	  "postgresql://postgres.railway.internal:5432/railway" },
	{ "postgres url with user only", "postgresql://app@db:5432/app" },
	{ "redis url without password",
	  "redis://redis.railway.internal:6379/0" },
	{ "url with port and an @ in the query",
	  "https://api.example.com:8443/invite?email=ana@example.com" },
	{ "uvicorn tokens route",
	  "INFO:     100.64.0.2:41822 - \"GET /api/v1/tokens HTTP/1.1\" 200 OK" },
	{ "uvicorn login redirect",
	  "INFO:     100.64.0.3:50112 - \"GET /auth/login?next=/dashboard HTTP/1.1\" 302 Found" },
	{ "password_reset route",
	  "INFO:     \"POST /api/v1/auth/password_reset HTTP/1.1\" 202 route=password_reset" },
	{ "password_reset name", "password_reset=sent" },
	{ "primary key, keyboard, monkey",
	  "primary key on users; keyboard layout us; monkey=banana" },
	{ "SQL placeholders",
	  "INSERT INTO users (email, password_hash) VALUES (%(email)s, %(password_hash)s)" },
	{ "SQL positional placeholders",
	  "UPDATE users SET password=%s WHERE id=?" },
	{ "already redacted", "[REDACTED:abc123]" },
	{ "already redacted value",
	  "password=[REDACTED:abc123] token=\"[REDACTED:0f0f0f]\"" },
	{ "already redacted url",
	  "postgresql://app:[REDACTED:3f2a9c]@postgres.railway.internal:5432/railway" },
	{ "already redacted header",
	  "Authorization: Bearer [REDACTED:9d01e4]" },
	{ "git commit sha",
	  "Deploying commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39" },
	{ "uuids",
	  "request_id=5f0c6f1e-2b7a-4c1d-9e8f-0a1b2c3d4e5f key_id=0b0e2c7a-1111-4c1d-9e8f-0a1b2c3d4e5f" },
	{ "PostgreSQL auth failure",
	  "2024-03-01 12:00:01.000 UTC [27] FATAL:  password authentication failed for user \"postgres\"" },
	{ "duplicate key detail",
	  "DETAIL:  Key (email)=(ana@example.com) already exists." },
	{ "token_type and token_uri",
	  "{\"token_type\": \"bearer\", \"expires_in\": 3600, \"token_uri\": \"https://oauth2.googleapis.com/token\"}" },
	{ "Stripe publishable key is public",
	  "checkout uses pk_live_SlB5er8bOfZqfM2oeq3hDavJ" },
	{ "PWD is a directory", "PWD=/app OLDPWD=/ HOME=/root" },
	{ "pagination tokens",
	  "next_page_token=CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA3 NextToken=abc123" },
	{ "max_tokens", "openai request max_tokens=1024 temperature=0.2" },
	{ "data-structure keys",
	  "cache_key=user:42 idempotency_key=7b1d2c3a primary_key=id public_key=ssh-ed25519" },
	{ "placeholders",
	  "password=None api_key=null JWT_SECRET_KEY= token=*** secret=${DB_SECRET} PASSWORD=$DB_PASSWORD" },
	{ "command substitution",
	  "railway variables set JWT_SECRET_KEY=$(openssl rand -hex 32)" },
	{ "filtered value", "password=[FILTERED] {\"token\": \"\"}" },
	{ "named SQL placeholders as unquoted values",
	  "password=%(password)s DB_PASSWORD=%(db_password)s, token=%(t)s" },
	{ "bare schemes and placeholders",
	  "Authorization: Bearer | Authorization: Bearer undefined | authorization: failed for user 42" },
	{ "Bearer words",
	  "Bearer token required; bearer authentication failed" },
	{ "kebab-case sk- word",
	  "sk-learn-compatibility-layer loaded; disk-usage-report-generator ok" },
	{ "short Stripe-like text", "sk_live_ missing; ghp_ prefix; AKIA123" },
	{ "certificate is public",
	  "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----" },
	{ "a name inside another value",
	  "msg=\"rotated the api key\" status=ok" },
	{ "secrets manager path",
	  "access granted for projects/123/secrets/db-password/versions/latest" },
	{ "scheme-relative url", "see //cdn.example.com:443/app.js" },
	{ "empty string", "" },
};

/* Healthy deployment logs: not a line may change. */
static const char *const healthy_lines[] = {
	"2024-03-01T12:00:00.123Z INFO:     Started server process [1]",
	"INFO:     Waiting for application startup.",
	"INFO:     Application startup complete.",
	"INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
	"INFO:     100.64.0.2:41822 - \"GET /api/v1/tokens HTTP/1.1\" 200 OK",
	"INFO:     100.64.0.4:50113 - \"POST /api/v1/auth/token HTTP/1.1\" 401 Unauthorized",
	"INFO:     100.64.0.4:50114 - \"POST /api/v1/auth/password_reset HTTP/1.1\" 202 Accepted",
	"INFO:     100.64.0.5:50115 - \"GET /health HTTP/1.1\" 200 OK",
	"INFO:     100.64.0.6:50116 - \"GET /api/v1/keys?page=2&per_page=50 HTTP/1.1\" 200 OK",
	"WARNING:  token expired for user_id=42",
	"ERROR:    Invalid token",
	"Traceback (most recent call last):",
	"  File \"/app/config.py\", line 12, in <module>",
	"    SECRET_KEY = os.environ[\"JWT_SECRET_KEY\"]",
	"KeyError: 'JWT_SECRET_KEY'",
	"  File \"/app/auth.py\", line 30, in verify_token",
	"    payload = jwt.decode(token, SECRET_KEY, algorithms=[\"HS256\"])",
	"jwt.exceptions.ExpiredSignatureError: Signature has expired",
	"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"postgres.railway.internal\" (10.0.0.5), port 5432 failed: Connection refused",
	"2024-03-01 12:00:01.000 UTC [27] FATAL:  password authentication failed for user \"postgres\"",
	"2024-03-01 12:00:01.000 UTC [27] DETAIL:  Connection matched pg_hba.conf line 99: \"host all all all scram-sha-256\"",
	"ERROR:  duplicate key value violates unique constraint \"users_email_key\"",
	"DETAIL:  Key (email)=(ana@example.com) already exists.",
	"[SQL: INSERT INTO users (email, password_hash) VALUES (%(email)s, %(password_hash)s)]",
	"Connecting to postgresql://postgres.railway.internal:5432/railway",
	"redis.exceptions.ConnectionError: Error 111 connecting to redis.railway.internal:6379. Connection refused.",
	"Using redis://redis.railway.internal:6379/0 for the cache",
	"Deploying commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
	"request_id=5f0c6f1e-2b7a-4c1d-9e8f-0a1b2c3d4e5f method=GET path=/api/v1/users status=200 duration_ms=12",
	"#12 [builder 4/7] RUN pip install --no-cache-dir -r requirements.txt",
	"#12 DONE 34.2s",
	"npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
	"Starting Container",
	"Stopping Container",
	"[2024-03-01 12:00:00 +0000] [1] [INFO] Booting worker with pid: 7",
	"[2024-03-01 12:00:30 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:7)",
	"Killed",
	"MemoryError",
	"{\"level\":\"info\",\"ts\":\"2024-03-01T12:00:00Z\",\"msg\":\"login ok\",\"user_id\":42,\"token_type\":\"bearer\",\"expires_in\":3600}",
	"{\"level\":\"error\",\"msg\":\"Authorization header missing\",\"path\":\"/api/v1/me\"}",
	"cache hit key=user:42 ttl=300",
	"Signed URL expires in 3600 seconds",
	"OAuth token_uri=https://oauth2.googleapis.com/token",
	"Rate limit: 100 tokens/min, 3 keys active",
	"password_reset email sent to user 42",
	"Rotating secrets: done",
	"Token refresh scheduled in 300s",
	"healthcheck passed: GET /health 200 in 3ms",
	"==> Uploading build cache",
	"Listening on port 8000",
	"CORS_ORIGINS=https://app.example.com,https://admin.example.com",
	"Authentication: bcrypt rounds=12",
	"Retrying in 5s (attempt 3/5)",
	"ssl: verify_mode=CERT_REQUIRED check_hostname=True",
	"alembic.runtime.migration: Running upgrade 1a2b3c -> 4d5e6f, add password_changed_at",
	"celery@worker-1 ready. broker=redis://redis:6379/1",
	"Nixpacks build: setup | python311, gcc",
	"Healthcheck failed: service unavailable",
	"OOMKilled: container exceeded memory limit 512Mi",
	"Error: Cannot find module 'express'",
	"nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)",
	"kubectl get secret db-credentials -o yaml",
	"GET /static/keyboard-shortcuts.js 304",
	"Mounted volume /data (public_key auth disabled)",
};

static void test_siphash(void)
{
	static const struct {
		size_t len;
		uint64_t want;
	} v[] = {
		{ 0, UINT64_C(0x726fdb47dd0e0e31) },
		{ 1, UINT64_C(0x74f839c593dc67fd) },
		{ 7, UINT64_C(0xab0200f58b01d137) },
		{ 8, UINT64_C(0x93f5f5799a932462) },
		{ 15, UINT64_C(0xa129ca6149be45e5) },
		{ 16, UINT64_C(0x3f2acc7f57c29bdb) },
		{ 63, UINT64_C(0x958a324ceb064572) },
	};
	unsigned char msg[64];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		CHECK(redact_siphash(test_key, msg, v[i].len) == v[i].want,
		      "siphash-2-4 reference vector, %zu-byte message", v[i].len);
}

/* The marker format, pinned to literal text (not computed here). */
static void test_marker_format(void)
{
	struct buf out;

	buf_init(&out);
	redact_append(rd, "password=hunter2", 16, &out);
	CHECK_STR(out.p, "password=[REDACTED:bc340a]",
		  "marker is the top 24 bits of siphash, lowercase hex");
	buf_release(&out);
}

static void test_correlation(void)
{
	static const unsigned char other_key[16] = { 42 };
	const char *err = NULL;
	struct redact *r2 = redact_new(other_key, &err);
	struct buf a, b, c;

	buf_init(&a);
	buf_init(&b);
	buf_init(&c);
	redact_append(rd, "DB_PASSWORD=Zq81", 16, &a);
	redact_append(rd, "postgres://app:Zq81@db/app", 26, &b);
	CHECK(r2 != NULL && err == NULL,
	      "redact_new succeeds with another key");
	CHECK(a.len == 29 && b.len == 39 &&
	      strncmp(a.p + 12, b.p + 15, 17) == 0,
	      "same secret, same marker in different shapes: %s / %s", a.p, b.p);
	if (r2 != NULL)
		redact_append(r2, "DB_PASSWORD=Zq81", 16, &c);
	CHECK(c.len == a.len && strcmp(a.p, c.p) != 0,
	      "another key gives another marker: %s / %s", a.p, c.p);
	redact_free(r2);
	redact_free(NULL);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

static void test_classify(void)
{
	static const struct {
		const char *name;
		enum redact_name_class want;
	} v[] = {
		{ "password", REDACT_NAME_SECRET },
		{ "PASSWORD", REDACT_NAME_SECRET },
		{ "DB_PASSWORD", REDACT_NAME_SECRET },
		{ "PGPASSWORD", REDACT_NAME_SECRET },
		{ "passwd", REDACT_NAME_SECRET },
		{ "password_hash", REDACT_NAME_SECRET },
		{ "new_password2", REDACT_NAME_SECRET },
		{ "JWT_SECRET_KEY", REDACT_NAME_SECRET },
		{ "secret", REDACT_NAME_SECRET },
		{ "clientSecret", REDACT_NAME_SECRET },
		{ "api_key", REDACT_NAME_SECRET },
		{ "apiKey", REDACT_NAME_SECRET },
		{ "APIKey", REDACT_NAME_SECRET },
		{ "apikey", REDACT_NAME_SECRET },
		{ "x-api-key", REDACT_NAME_SECRET },
		{ "AWS_ACCESS_KEY_ID", REDACT_NAME_SECRET },
		{ "private_key_id", REDACT_NAME_SECRET },
		{ "stripe.api_key", REDACT_NAME_SECRET },
		{ "access_token", REDACT_NAME_SECRET },
		{ "csrfToken", REDACT_NAME_SECRET },
		{ "_authToken", REDACT_NAME_SECRET },
		{ "token", REDACT_NAME_SECRET },
		{ "DB_PWD", REDACT_NAME_SECRET },
		{ "REDIS_PASS", REDACT_NAME_SECRET },
		{ "Authorization", REDACT_NAME_AUTHORIZATION },
		{ "Proxy-Authorization", REDACT_NAME_AUTHORIZATION },
		{ "HTTP_AUTHORIZATION", REDACT_NAME_AUTHORIZATION },
		{ "Cookie", REDACT_NAME_COOKIE },
		{ "HTTP_COOKIE", REDACT_NAME_COOKIE },
		{ "Set-Cookie", REDACT_NAME_SET_COOKIE },
		{ "key", REDACT_NAME_PLAIN },
		{ "KeyError", REDACT_NAME_PLAIN },
		{ "monkey", REDACT_NAME_PLAIN },
		{ "keyboard", REDACT_NAME_PLAIN },
		{ "primary_key", REDACT_NAME_PLAIN },
		{ "publishable_key", REDACT_NAME_PLAIN },
		{ "token_type", REDACT_NAME_PLAIN },
		{ "max_tokens", REDACT_NAME_PLAIN },
		{ "nextPageToken", REDACT_NAME_PLAIN },
		{ "password_reset", REDACT_NAME_PLAIN },
		{ "secret_name", REDACT_NAME_PLAIN },
		{ "authorization_url", REDACT_NAME_PLAIN },
		{ "PWD", REDACT_NAME_PLAIN },
		{ "pass", REDACT_NAME_PLAIN },
		{ "DATABASE_URL", REDACT_NAME_PLAIN },
		{ "key_id", REDACT_NAME_PLAIN },
		{ "a_very_long_name_that_goes_on_and_on_past_sixty_four_bytes_"
		  "password", REDACT_NAME_PLAIN },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		CHECK(redact_classify_name(v[i].name, strlen(v[i].name)) ==
		      v[i].want,
		      "name '%s' reads as class %d", v[i].name, (int)v[i].want);
}

/*
 * The prefilter tests byte pairs; the reference tests every byte. They must
 * agree on text made of literal pieces, near misses and noise, in random
 * case, or a detector would silently never run.
 */
static void test_prefilter_pairs(void)
{
	static const char *const pieces[] = {
		"pass", "pwd", "secret", "token", "key", "authoriz", "cookie",
		"://", ":\\/\\/", "eyJ", "bearer", "AKIA", "ASIA", "AIza", "sk_",
		"rk_", "sk-", "ghp_", "gho_", "ghs_", "github_pat_", "glpat-",
		"xox", "SG.", "npm_", "hf_", "whsec_", "ya29.", "$2b$", "$2$",
		"$argon2", "pas", "toke", "ke", "ey", "S", "G", ":", "/", "_", "$",
		"-", "a", "e", "I", "z", "J", " ", "\0", "\xff",
	};
	unsigned state = 2024;
	char text[256];
	int mismatches = 0;
	int round;
	int with_gates = 0;

	for (round = 0; round < 20000; round++) {
		size_t len = 0;
		int k = 1 + (int)((state >> 16) % 8);

		while (k-- > 0) {
			const char *p;
			size_t n;
			size_t i;

			state = state * 1103515245u + 12345u;
			p = pieces[(state >> 16) % ARRAY_SIZE(pieces)];
			n = p[0] == '\0' ? 1 : strlen(p);
			for (i = 0; i < n && len < sizeof(text); i++) {
				char c = p[i];
				unsigned flip;

				state = state * 1103515245u + 12345u;
				flip = (state >> 20) % 4;
				if (flip == 0 && c >= 'a' && c <= 'z')
					c = (char)(c - 32);
				else if (flip == 1 && c >= 'A' && c <= 'Z')
					c = (char)(c + 32);
				text[len++] = c;
			}
		}
		if (redact_prefilter_gates(text, len, false) !=
		    redact_prefilter_gates(text, len, true))
			mismatches++;
		with_gates += redact_prefilter_gates(text, len, true) != 0;
	}
	CHECK(mismatches == 0,
	      "pair prefilter equals the every-byte reference on 20000 random texts (%d had literals)",
	      with_gates);
}

static void test_healthy(void)
{
	struct buf out;
	size_t i;
	size_t changed = 0;
	size_t looked = 0;
	size_t bytes = 0;

	buf_init(&out);
	for (i = 0; i < ARRAY_SIZE(healthy_lines); i++) {
		const char *l = healthy_lines[i];

		bytes += strlen(l);
		looked += redact_may_contain(l, strlen(l));
		if (redact_exact(l, strlen(l), &out) != 0 ||
		    strcmp(out.p, l) != 0) {
			changed++;
			printf("#   false redaction: '%s'\n", out.p);
		}
	}
	CHECK(changed == 0, "healthy text: %zu lines (%zu bytes), %zu falsely "
	      "redacted, %zu passed the prefilter",
	      ARRAY_SIZE(healthy_lines), bytes, changed, looked);
	buf_release(&out);
}

/*
 * NUL bytes, invalid UTF-8, no terminator, empty input. The text is made
 * valid UTF-8 (U+FFFD, "\xef\xbf\xbd", for each NUL and invalid byte)
 * before it is redacted, so a secret cannot hide behind such a byte.
 */
static void test_bytes(void)
{
	static const char nul_in[] = "hello\0world password=ab\0cd token=x\0y";
	static const char nul_first[] =
		"(pid:17) password=\0hunter2xyz DB_PASSWORD= \0s3cr3tAbc";
	static const char bad_utf8[] =
		"\xff\xfe password=\xc3\x28s3cr\xe9t \xe2\x82";
	static const char bad_auth[] =
		"Authorization: \xf1\xf1\xf1\xf1\xf1\xf1\xf1\xf1\xf1\xf1"
		"\xf1\xf1\xf1\xf1 ok";
	struct buf want, got, again;
	int n;

	buf_init(&want);
	buf_init(&got);
	buf_init(&again);
	buf_adds(&want, "hello\xef\xbf\xbdworld password=");
	add_want_marker(&want, "ab\xef\xbf\xbd" "cd", 7);
	buf_adds(&want, " token=");
	add_want_marker(&want, "x\xef\xbf\xbdy", 5);
	n = redact_exact(nul_in, sizeof(nul_in) - 1, &got);
	CHECK(n == 2 && strcmp(got.p, want.p) == 0 &&
	      strlen(got.p) == got.len,
	      "a NUL byte is U+FFFD inside a value, and none is left");

	buf_clear(&want);
	buf_adds(&want, "(pid:17) password=");
	add_want_marker(&want, "\xef\xbf\xbdhunter2xyz", 13);
	buf_adds(&want, " DB_PASSWORD= ");
	add_want_marker(&want, "\xef\xbf\xbds3cr3tAbc", 12);
	n = redact_exact(nul_first, sizeof(nul_first) - 1, &got);
	CHECK(n == 2 && strcmp(got.p, want.p) == 0,
	      "a NUL byte before a secret does not let it through: %s", got.p);

	buf_clear(&want);
	buf_adds(&want, "\xef\xbf\xbd\xef\xbf\xbd password=");
	add_want_marker(&want, "\xef\xbf\xbd(s3cr\xef\xbf\xbdt", 12);
	buf_adds(&want, " \xef\xbf\xbd\xef\xbf\xbd");
	n = redact_exact(bad_utf8, sizeof(bad_utf8) - 1, &got);
	CHECK(n == 1 && strcmp(got.p, want.p) == 0,
	      "invalid UTF-8 is redacted as the U+FFFD it is stored as: %s",
	      got.p);

	/*
	 * Found by fuzz_json: 14 invalid bytes are 14 bytes raw (too short
	 * to look random) and 42 as U+FFFD (long enough).
	 */
	n = redact_exact(bad_auth, sizeof(bad_auth) - 1, &got);
	redact_exact(got.p, got.len, &again);
	CHECK(n == 1 && strstr(got.p, "\xef\xbf\xbd") == NULL &&
	      strcmp(again.p, got.p) == 0,
	      "an Authorization value of invalid bytes: judged as stored, "
	      "redacting again changes nothing (%s)", got.p);

	buf_clear(&got);
	buf_adds(&got, "kept");
	n = redact_append(rd, "", 0, &got);
	CHECK(n == 0 && strcmp(got.p, "kept") == 0,
	      "empty input appends nothing");
	CHECK(!redact_may_contain("", 0) && !redact_may_contain(NULL, 0),
	      "empty input may not contain a secret");
	buf_release(&want);
	buf_release(&got);
	buf_release(&again);
}

/* Build n copies of unit. */
static void repeat(struct buf *b, const char *unit, size_t n)
{
	size_t len = strlen(unit);

	buf_clear(b);
	buf_grow(b, len * n);
	while (n-- > 0)
		buf_add(b, unit, len);
}

/*
 * Hostile input: each must give the stated output and finish quickly.
 * Natively each takes well under 0.1 s; the 10 s bound leaves room for
 * valgrind (about 100 times slower) and still fails a quadratic pattern,
 * which would take minutes on these sizes.
 */
static void check_big(const char *what, const struct buf *in,
		      const char *prefix, int want_count, bool whole_tail)
{
	struct buf out, want;
	clock_t t0 = clock();
	double secs;
	int n;
	size_t pre = strlen(prefix);

	buf_init(&out);
	buf_init(&want);
	n = redact_exact(in->p, in->len, &out);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (whole_tail) {
		buf_add(&want, prefix, pre);
		add_want_marker(&want, in->p + pre, in->len - pre);
	} else {
		buf_add(&want, in->p, in->len);
	}
	CHECK(n == want_count && out.len == want.len &&
	      memcmp(out.p, want.p, out.len) == 0 && secs < 10.0,
	      "%s: %zu bytes, %d marker(s), %.3f s", what, in->len, n, secs);
	buf_release(&out);
	buf_release(&want);
}

static void test_hostile(void)
{
	struct buf in;

	buf_init(&in);
	repeat(&in, "A", 1 << 20);
	check_big("1 MiB of 'A'", &in, "", 0, false);
	repeat(&in, "password=", 100000);
	check_big("100k 'password=' repetitions", &in, "password=", 1, true);
	repeat(&in, "password=x&", 100000);
	check_big("100k secrets collapse into one past REDACT_MAX_SPANS", &in,
		  "password=", 1, true);
	repeat(&in, "Cookie: a=b;", 100000);
	check_big("100k cookies", &in, "Cookie: a=", 1, true);
	repeat(&in, "\"password\": \"", 50000);
	check_big("50k empty quoted values", &in, "", 0, false);
	repeat(&in, "password=\"abc", 50000);
	check_big("50k unbalanced quotes", &in, "password=\"", 1, true);
	repeat(&in, "eyJ", 300000);
	check_big("300k 'eyJ'", &in, "", 0, false);
	repeat(&in, "eyJabcd.", 100000);
	check_big("100k JWT-shaped fragments", &in, "", 1, true);
	repeat(&in, "://a:", 200000);
	check_big("200k '://a:'", &in, "", 0, false);
	repeat(&in, "Bearer ", 100000);
	check_big("100k 'Bearer '", &in, "", 0, false);
	repeat(&in, "key", 300000);
	check_big("300k 'key'", &in, "", 0, false);
	repeat(&in, "key=", 100000);
	check_big("100k 'key='", &in, "", 0, false);
	repeat(&in, "token: ", 100000);
	check_big("100k 'token: '", &in, "", 0, false);
	repeat(&in, "--password --", 50000);
	check_big("50k '--password --'", &in, "", 0, false);
	repeat(&in, "-----BEGIN PRIVATE KEY-----", 30000);
	check_big("30k PEM headers", &in, "", 1, true);
	repeat(&in, "\\\"token\\\":\\\"", 50000);
	check_big("50k escaped-quote names", &in, "", 0, false);
	repeat(&in, "x", 1 << 20);
	buf_adds(&in, " password=tail");
	{
		struct buf want, out;

		buf_init(&want);
		buf_init(&out);
		buf_add(&want, in.p, in.len - 4);
		add_want_marker(&want, "tail", 4);
		CHECK(redact_exact(in.p, in.len, &out) == 1 &&
		      strcmp(out.p, want.p) == 0,
		      "secret at the end of a 1 MiB line");
		buf_release(&want);
		buf_release(&out);
	}
	buf_release(&in);
}

/* When PCRE2 gives up, the rest of the input is replaced, never kept. */
static void test_fail_closed(void)
{
	const char *err = NULL;
	struct redact *r2 = redact_new(test_key, &err);
	const char *s = "user=bob password=hunter2 ok";
	struct buf out, want;
	int n;

	buf_init(&out);
	buf_init(&want);
	if (r2 == NULL) {
		CHECK(0, "redact_new: %s", err);
		return;
	}
	redact_set_match_limit(r2, 1);
	n = redact_append(r2, s, strlen(s), &out);
	add_want_marker(&want, s, strlen(s));
	CHECK(n == 1 && strcmp(out.p, want.p) == 0,
	      "match limit hit: the whole record is replaced (%s)", out.p);
	redact_free(r2);
	buf_release(&out);
	buf_release(&want);
}

int main(void)
{
	const char *err = NULL;
	size_t i;

	rd = redact_new(test_key, &err);
	if (rd == NULL) {
		printf("not ok 1 - redact_new: %s\n", err);
		return 1;
	}
	test_siphash();
	test_marker_format();
	test_correlation();
	test_classify();
	for (i = 0; i < ARRAY_SIZE(secret_cases); i++)
		check_case(secret_cases[i].what, secret_cases[i].tmpl);
	for (i = 0; i < ARRAY_SIZE(plain_cases); i++)
		check_case(plain_cases[i].what, plain_cases[i].tmpl);
	test_prefilter_pairs();
	test_healthy();
	test_bytes();
	test_hostile();
	test_fail_closed();
	printf("# %zu secret shapes, %zu plain cases, %zu healthy lines\n",
	       ARRAY_SIZE(secret_cases), ARRAY_SIZE(plain_cases),
	       ARRAY_SIZE(healthy_lines));
	redact_free(rd);
	return unit_done();
}
