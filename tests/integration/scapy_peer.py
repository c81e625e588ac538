"""What tunnel-scapy.py and esp-scapy.py share: their check lines and the
send-and-sniff exchange with sonded on the peer's tap."""
import threading

from scapy.all import AsyncSniffer, Ether, sendp


class Peer:
    """scapy on tap iface, facing sonded (MAC smac)."""

    def __init__(self, iface, smac):
        self.iface, self.smac, self.failed = iface, smac.lower(), 0

    def say(self, ok, what):
        """One check line, "ok ..." or "FAIL ..."; counts the failures."""
        print(("ok " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failed += 1

    def send(self, frame):
        sendp(frame, iface=self.iface)

    def exchange(self, frame, want, timeout=2.0):
        """Sends frame to sonded; the first frame from sonded that want()
        accepts, or None."""
        started = threading.Event()
        sn = AsyncSniffer(iface=self.iface, store=True,
                          lfilter=lambda p: Ether in p and p[Ether].src.lower() == self.smac and want(p),
                          count=1, timeout=timeout, started_callback=started.set)
        sn.start()
        if not started.wait(5):
            return None
        sendp(frame, iface=self.iface)
        sn.join()
        return sn.results[0] if sn.results else None
