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
