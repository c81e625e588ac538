/*
 * udp-echo: the Linux kernel's side of the benchmark's comparison, a UDP
 * echo server (RFC 862) as fast as the socket API allows: batches of 32
 * with recvmmsg()/sendmmsg(), one socket, one thread.
 *
 *   udp-echo [PORT]     (default 7; runs until killed)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define BUFSZ 2048

int
main(int argc, char **argv)
{
	static char bufs[BATCH][BUFSZ];
	struct sockaddr_in6 peers[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int fd, zero = 0, big = 8 << 20;

	a.sin6_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 7);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp-echo");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], BUFSZ };
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i],
							   .msg_namelen = sizeof(peers[i]),
							   .msg_iov = &iov[i],
							   .msg_iovlen = 1 };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		sendmmsg(fd, msgs, (unsigned)n, 0);
	}
}
