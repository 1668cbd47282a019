#!/usr/bin/env python3
"""slowlink.py — a slow link for the benchmark, in user space: a TCP proxy
on 127.0.0.1 that carries each direction at RATE bits per second with
DELAY ms one way (RTT = 2 x DELAY).

    slowlink.py LISTEN_PORT TARGET_PORT RATE_BPS DELAY_MS

Rate: each direction reads from its source no faster than the link
drains (a token bucket of 1500-byte packets), so the sender's socket
buffers fill and push back as behind a real bottleneck; what was read
waits DELAY ms, then is written on.  The one connection it serves is to
127.0.0.1 only.  Prints "ready" when listening.  (tc's netem, which
would do the delay in the kernel, is not in this kernel; tbf on a veth
pair would need the benchmark's two ends in different namespaces, and
ewh-bench's sender and recipient share one process.)
"""
import collections
import socket
import sys
import threading
import time


def pump(src, dst, rate, delay):
    q = collections.deque()
    cv = threading.Condition()
    done = [False]

    def writer():
        while True:
            with cv:
                while not q and not done[0]:
                    cv.wait()
                if not q and done[0]:
                    break
                t, data = q.popleft()
            d = t + delay - time.monotonic()
            if d > 0:
                time.sleep(d)
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    next_t = time.monotonic()
    while True:
        now = time.monotonic()
        if next_t > now:
            time.sleep(next_t - now)
        try:
            data = src.recv(1500)
        except OSError:
            data = b""
        if not data:
            break
        next_t = max(next_t, time.monotonic() - 0.01) + len(data) * 8.0 / rate
        with cv:
            q.append((time.monotonic(), data))
            cv.notify()
    with cv:
        done[0] = True
        cv.notify()
    w.join()


def main():
    lport, tport = int(sys.argv[1]), int(sys.argv[2])
    rate, delay = float(sys.argv[3]), float(sys.argv[4]) / 1000.0
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(4)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        u = socket.socket()
        # A modest queue at the bottleneck, as a router has.
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        u.connect(("127.0.0.1", tport))
        for s in (c, u):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(c, u, rate, delay),
                         daemon=True).start()
        threading.Thread(target=pump, args=(u, c, rate, delay),
                         daemon=True).start()


if __name__ == "__main__":
    main()
