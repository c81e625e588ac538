#!/usr/bin/python3
"""Asks a running DPDK process one telemetry command over its v2 socket and
prints the answer's JSON value on one line:

    telemetry.py SOCKET_PATH COMMAND

DPDK's telemetry protocol: connect (SOCK_SEQPACKET), read the greeting
({"version": ..., "pid": ..., "max_output_len": ...}), send the command,
read one JSON message {COMMAND: VALUE}.  The greeting's pid goes to stderr.
"""
import json
import socket
import sys

path, cmd = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(path)
hello = json.loads(s.recv(16384).decode())
s.send(cmd.encode())
answer = json.loads(s.recv(hello.get("max_output_len", 16384)).decode())
s.close()
print("pid", hello["pid"], file=sys.stderr)
print(json.dumps(answer[cmd], sort_keys=True))
