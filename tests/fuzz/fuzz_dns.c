/* tests/fuzz/fuzz_dns.c - libFuzzer target for the DNS answers zkc+dns and
 * zk+srv read from a name server: the SRV parser and the A/AAAA parser of
 * src/hosts_dns.c, fed raw messages. They are static there, so this file
 * includes it. Any crash, leak or undefined behaviour is a bug, and what a
 * parser accepts must keep its promises: unique targets with a name and a
 * port, at most DNS_MAX_TARGETS of them; unique servers, at most
 * DNS_MAX_SERVERS. */
#include "../../src/hosts_dns.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_srv(dns_pass_t *p, int len)
{
	srv_target_t *t = NULL;
	size_t n = 0;
	const char *why = NULL;

	if (parse_srv(p, len, &t, &n, &why) == 0) {
		if (n == 0 || n > DNS_MAX_TARGETS)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (t[i].name[0] == '\0' || t[i].port <= 0 || t[i].port > 65535)
				abort();
			for (size_t j = 0; j < i; j++)
				if (t[i].port == t[j].port && strcmp(t[i].name, t[j].name) == 0)
					abort();
		}
	} else if (t != NULL || n != 0 || why == NULL) {
		abort();
	}
	free(t);
}

static void check_addrs(dns_pass_t *p, int len, ns_type type)
{
	const char *why = NULL;
	int added = parse_addrs(p, len, type, 2181, &why);

	if (added < 0 && why == NULL)
		abort();
	if (p->nservers > DNS_MAX_SERVERS)
		abort();
	for (size_t i = 0; i < p->nservers; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->servers[i], p->servers[j]) == 0)
				abort();
	for (size_t i = 0; i < p->nservers; i++)
		free(p->servers[i]);
	free(p->servers);
	p->servers = NULL;
	p->nservers = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dns_pass_t p;

	if (size > DNS_ANSWER_MAX)
		return 0;
	memset(&p, 0, sizeof(p));
	p.answer = malloc(size ? size : 1);
	if (!p.answer)
		return 0;
	memcpy(p.answer, data, size);
	check_srv(&p, (int)size);
	check_addrs(&p, (int)size, ns_t_a);
	check_addrs(&p, (int)size, ns_t_aaaa);
	free(p.problems);
	free(p.answer);
	return 0;
}
