/*
 * tcp_output.c: what to send and when.
 */
#include "ip.h"
#include "sock.h"
