/*
 * provider.d: every USDT probe sonde fires, declared once.
 *
 * The build turns this file into probes/sonde_probes.h (dtrace -h) and an
 * object defining the semaphores (dtrace -G), both with systemtap-sdt-dev's
 * dtrace.  With -Dprobes=false, scripts/probes_noop.py turns the same file
 * into empty macros instead.  The names and arguments follow the DTrace
 * network providers (Solaris "ip provider prototype #2", illumos, FreeBSD);
 * docs/probes.md says where each fires and what its arguments hold.
 *
 * Every ip/ipv4/ipv6 probe takes the same six arguments:
 *   arg0 struct pktinfo_t *   arg1 struct csinfo_t * (NULL: no connection)
 *   arg2 struct ipinfo_t *    arg3 struct ifinfo_t *
 *   arg4 struct ipv4info_t * (NULL for IPv6)
 *   arg5 struct ipv6info_t * (NULL for IPv4)
 * The structs are in probes/ip_provider.h.  They are declared as void *
 * here because systemtap's dtrace only copies the types into comments.
 *
 * The tcp and udp probes take six too, in the layout of the DTrace tcp and
 * udp providers (illumos tcp.d/udp.d, FreeBSD dtrace_tcp(4) and
 * dtrace_udp(4), Oracle Linux dtrace-utils agree); their own structs are in
 * probes/tcp_provider.h:
 *   tcp send, receive, connect-*, accept-*:
 *     arg0 pktinfo_t *  arg1 csinfo_t * (NULL: no connection)  arg2 ipinfo_t *
 *     arg3 tcpsinfo_t * arg4 tcpinfo_t *  arg5 NULL
 *   tcp state-change:
 *     arg0 NULL  arg1 csinfo_t *  arg2 NULL  arg3 tcpsinfo_t * (the new state)
 *     arg4 NULL  arg5 tcplsinfo_t * (the previous state)
 *   udp send, receive:
 *     arg0 pktinfo_t *  arg1 csinfo_t * (NULL: no socket)  arg2 ipinfo_t *
 *     arg3 udpsinfo_t * arg4 udpinfo_t *  arg5 NULL
 */

provider ip {
	probe send(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe receive(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe local__send(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe local__receive(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
};

provider ipv4 {
	probe send(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe receive(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe local__send(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe local__receive(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe drop__in(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe drop__out(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe read(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe write(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
};

provider ipv6 {
	probe send(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe receive(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe local__send(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe local__receive(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe drop__in(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe drop__out(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe read(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
	probe write(void *pkt, void *cs, void *ip, void *ifp, void *ipv4, void *ipv6);
};

provider tcp {
	probe send(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe receive(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe connect__request(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe connect__established(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe connect__refused(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe accept__established(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe accept__refused(void *pkt, void *cs, void *ip, void *tcps, void *tcp, void *unused);
	probe state__change(void *unused0, void *cs, void *unused2, void *tcps, void *unused4, void *tcpls);
};

provider udp {
	probe send(void *pkt, void *cs, void *ip, void *udps, void *udp, void *unused);
	probe receive(void *pkt, void *cs, void *ip, void *udps, void *udp, void *unused);
};
