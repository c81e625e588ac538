/*
 * esp_sa.c: ESP's SA file, shared by sonded and sonde-gen (esp_sa.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "esp_sa.h"

/* A number from 0 to max, all of s. */
bool
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return isdigit((unsigned char)s[0]) && *end == '\0' && errno == 0 && *v <= max;
}

/* A hex string, 0x and all, into at most max bytes; how many, or -1. */
static int
parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	n = strlen(s);
	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* One SA line's words after DIRECTION: spi N aead rfc4106(gcm(aes)) 0xKEY
 * 128 [seq N] [replay-window N] (ip xfrm's words; the key is the AES key
 * and the 4-byte salt, 20 or 36 bytes).  NULL or what is wrong. */
static const char *
esp_sa_parse(struct sonde_esp_sa *sa, char **w, int n)
{
	uint8_t key[sizeof(sa->key)];
	unsigned long v;
	int klen, i;

	if (n < 6 || strcmp(w[0], "spi") != 0 || !parse_uint(w[1], UINT32_MAX, &v) || v < 256)
		return "expected spi N (256 or more) first";
	sa->spi = (uint32_t)v;
	if (strcmp(w[2], "aead") != 0 || strcmp(w[3], "rfc4106(gcm(aes))") != 0)
		return "expected aead rfc4106(gcm(aes)) after the SPI";
	klen = parse_hex(w[4], key, sizeof(key));
	if (klen > 0)
		memcpy(sa->key, key, (size_t)klen);
	explicit_bzero(key, sizeof(key)); /* memset() could go: a dead store */
	if (klen != 20 && klen != 36)
		return "the key: 0x and 40 or 72 hex digits (the AES key, then the 4-byte salt)";
	sa->alg = klen == 36 ? SONDE_ESP_AES_GCM_256 : SONDE_ESP_AES_GCM_128;
	if (strcmp(w[5], "128") != 0)
		return "the ICV: 128 bits";
	for (i = 6; i + 1 < n; i += 2) {
		if (strcmp(w[i], "seq") == 0 && parse_uint(w[i + 1], UINT32_MAX, &v))
			sa->seq = (uint32_t)v;
		else if (strcmp(w[i], "replay-window") == 0 && parse_uint(w[i + 1], 1024, &v) &&
			 v > 0)
			sa->replay_window = (uint16_t)v;
		else
			return "after the ICV: seq N (out), replay-window 1..1024 (in)";
	}
	return i == n ? NULL : "after the ICV: seq N (out), replay-window 1..1024 (in)";
}

/* esp=FILE: the tunnel's SAs, from a file (not argv, where ps shows keys):
 *   out spi 0x1001 aead rfc4106(gcm(aes)) 0x<key and salt> 128 [seq N]
 *   in spi 0x2002 aead rfc4106(gcm(aes)) 0x<key and salt> 128 [replay-window N]
 *   port N            (UDP, both ends; 4500)
 *   keepalive SECS|off (RFC 3948 NAT keepalives after SECS idle; 20)
 * '#' starts a comment.  NULL or what is wrong (into why). */
const char *
esp_sa_file(struct sonde_esp_conf *c, const char *path, char *why, size_t size)
{
	char line[512], *w[16];
	bool have_out = false, have_in = false;
	unsigned lineno = 0;
	const char *err = NULL;
	struct stat sb;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(why, size, "esp=%s: %s", path, strerror(errno));
		return why;
	}
	/* No stdio buffer holding the whole file (keys) after fclose. */
	setvbuf(f, NULL, _IONBF, 0);
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
		fprintf(stderr,
			"sonded: warning: %s holds keys and others may read it (chmod 600)\n",
			path);
	while (err == NULL && fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *tok, *hash = strchr(line, '#');
		unsigned long v;
		int n = 0;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && n < 16;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = tok;
		if (n == 0)
			continue;
		if (strcmp(w[0], "out") == 0 || strcmp(w[0], "in") == 0) {
			bool out = w[0][0] == 'o';

			if (*(out ? &have_out : &have_in))
				err = "a second SA for one direction";
			else
				err = esp_sa_parse(out ? &c->out : &c->in, w + 1, n - 1);
			*(out ? &have_out : &have_in) = true;
		} else if (strcmp(w[0], "port") == 0 && n == 2 && parse_uint(w[1], 65535, &v) &&
			   v) {
			c->port = (uint16_t)v;
		} else if (strcmp(w[0], "keepalive") == 0 && n == 2) {
			if (strcmp(w[1], "off") == 0)
				c->keepalive = 0xffff;
			else if (parse_uint(w[1], 3600, &v) && v > 0)
				c->keepalive = (uint16_t)v;
			else
				err = "keepalive: 1 to 3600 seconds, or off";
		} else {
			err = "expected out, in, port or keepalive";
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	if (err == NULL && (!have_out || !have_in))
		err = "needs an out SA and an in SA";
	if (err != NULL) {
		explicit_bzero(c, sizeof(*c));
		snprintf(why, size, "esp=%s line %u: %s", path, lineno, err);
		return why;
	}
	return NULL;
}
