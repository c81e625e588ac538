/*
 * espinudp: holds a UDP socket on port 4500 with UDP_ENCAP_ESPINUDP, for
 * the VM peer.  Linux hands ESP in UDP (RFC 3948) to XFRM only when it
 * arrives on such a socket; an IKE daemon keeps one, the guest has none.
 * Built static by the test that needs it (cc -static) and put in the
 * guest beside its script; runs until killed.
 *
 *   espinudp [PORT]
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif
#ifndef UDP_ENCAP_ESPINUDP
#define UDP_ENCAP_ESPINUDP 2
#endif

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4500) };
	int s = socket(AF_INET, SOCK_DGRAM, 0), type = UDP_ENCAP_ESPINUDP;

	if (argc > 1)
		a.sin_port = htons((unsigned short)atoi(argv[1]));
	if (s < 0 || setsockopt(s, IPPROTO_UDP, UDP_ENCAP, &type, sizeof(type)) != 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("espinudp");
		return 1;
	}
	printf("espinudp: holding UDP %u\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;)
		pause();
}
