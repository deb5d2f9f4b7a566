#!/usr/bin/env python3
"""A UDP relay between two ringnetd members on 127.0.0.1 that can replay
what it carried (tests/daemon/replay.sh). Standard library only.

    A (127.0.0.1:PORT_A) <--> [sock_a  relay  sock_b] <--> B (127.0.0.1:PORT_B)

A's only bootstrap is sock_a; B sees sock_b as A's endpoint. Datagrams
from A on sock_a go out of sock_b to B, datagrams from B on sock_b go out
of sock_a to A; anything from another source is dropped and counted.
Every DATA datagram forwarded to B (first byte 0x16, docs/security.md §3:
0x16 | receiver idx u32 | counter u64 | ciphertext and tag) is recorded.

Files in DIR, written whole (write, then rename):
  relay.ports   "PORT_OF_SOCK_A PORT_OF_SOCK_B", once both are bound
  relay.stats   counters of genuine traffic, after every forwarded datagram
  replay.go     made by the test: replay now (then it is removed)
  replay.done   what was injected, as JSON, once it has been

On replay.go the relay sends to B, from sock_b (so the datagrams come from
A's endpoint as B knows it), for each recorded DATA datagram of the
session B currently uses (the receiver index of the latest one): the
datagram once more, then a copy with one random bit flipped in its
header. The bit is either in the receiver index (no such session:
data_unknown) or a 0 bit of the counter worth more than any counter
forwarded so far (a new counter, so the window lets it through and the
AEAD, whose associated data is the header, must refuse it:
data_auth_fail). A flip in the ciphertext of a datagram B already has
would be caught by the replay window before the AEAD, so it is not used.
At most RECORD_MAX datagrams are kept (the latest), so at most
2 * RECORD_MAX are injected.

Bounded: the relay exits after --lifetime seconds, on SIGTERM, or when
DIR disappears. Only 127.0.0.1 is used.
"""

import argparse
import collections
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

DATA = 0x16
HDR = 13  # type, receiver index, counter
RECORD_MAX = 150
REPLAY_WINDOW = 1024 - 64  # core/seal.h RN_REPLAY_WINDOW
INJECT_GAP_S = 0.002  # between injected datagrams: B's socket buffer


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Relay:
    def __init__(self, a_port, b_port, directory, seed):
        self.a = ("127.0.0.1", a_port)
        self.b = ("127.0.0.1", b_port)
        self.dir = directory
        self.rng = random.Random(seed)
        self.sock_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock_a.bind(("127.0.0.1", 0))
        self.sock_b.bind(("127.0.0.1", 0))
        self.recorded = collections.deque(maxlen=RECORD_MAX)
        self.max_ctr = {}  # receiver index -> largest counter forwarded
        self.last_idx = None
        self.stats = {
            "to_b": 0, "to_b_data": 0, "to_a": 0, "dropped_strangers": 0,
            "recorded_data": 0, "seed": seed,
        }
        write_file(self.path("relay.ports"), "%d %d\n" % (
            self.sock_a.getsockname()[1], self.sock_b.getsockname()[1]))
        self.save_stats()

    def path(self, name):
        return os.path.join(self.dir, name)

    def save_stats(self):
        write_file(self.path("relay.stats"), json.dumps(self.stats) + "\n")

    def from_a(self, buf, src):
        if src != self.a:
            self.stats["dropped_strangers"] += 1
            return
        self.sock_b.sendto(buf, self.b)
        self.stats["to_b"] += 1
        if len(buf) > HDR and buf[0] == DATA:
            idx, ctr = struct.unpack(">IQ", buf[1:HDR])
            self.recorded.append(buf)
            self.max_ctr[idx] = max(self.max_ctr.get(idx, 0), ctr)
            self.last_idx = idx
            self.stats["to_b_data"] += 1
            self.stats["recorded_data"] += 1
        self.save_stats()

    def from_b(self, buf, src):
        if src != self.b:
            self.stats["dropped_strangers"] += 1
            return
        self.sock_a.sendto(buf, self.a)
        self.stats["to_a"] += 1
        self.save_stats()

    def flip(self, buf):
        """A copy of buf with one header bit flipped (see the top)."""
        idx, ctr = struct.unpack(">IQ", buf[1:HDR])
        top = self.max_ctr.get(idx, ctr).bit_length()
        ctr_bits = [k for k in range(top, 63) if not (ctr >> k) & 1]
        if self.rng.random() < 0.5 or not ctr_bits:
            bit = self.rng.randrange(32)
            where, value = "index", idx ^ (1 << bit)
            head = struct.pack(">IQ", value, ctr)
        else:
            bit = self.rng.choice(ctr_bits)
            where, value = "counter", ctr ^ (1 << bit)
            head = struct.pack(">IQ", idx, value)
        return bytes([buf[0]]) + head + buf[HDR:], where

    def inject(self):
        idx = self.last_idx
        chosen = [d for d in self.recorded
                  if struct.unpack(">I", d[1:5])[0] == idx]
        top = self.max_ctr.get(idx, 0)
        done = {
            "index": idx, "max_counter": top, "recorded": len(self.recorded),
            "replayed": 0, "replayed_in_window": 0, "flipped": 0,
            "flipped_index": 0, "flipped_counter": 0,
            "skipped_other_sessions": len(self.recorded) - len(chosen),
        }
        for d in chosen:
            ctr = struct.unpack(">Q", d[5:HDR])[0]
            self.sock_b.sendto(d, self.b)
            done["replayed"] += 1
            done["replayed_in_window"] += ctr + REPLAY_WINDOW >= top
            time.sleep(INJECT_GAP_S)
        for d in chosen:
            bad, where = self.flip(d)
            self.sock_b.sendto(bad, self.b)
            done["flipped"] += 1
            done["flipped_" + where] += 1
            time.sleep(INJECT_GAP_S)
        write_file(self.path("replay.done"), json.dumps(done) + "\n")

    def run(self, lifetime_s):
        deadline = time.monotonic() + lifetime_s
        go = self.path("replay.go")
        while time.monotonic() < deadline and os.path.isdir(self.dir):
            ready, _, _ = select.select([self.sock_a, self.sock_b], [], [],
                                        0.1)
            for s in ready:
                buf, src = s.recvfrom(65536)
                if s is self.sock_a:
                    self.from_a(buf, src)
                else:
                    self.from_b(buf, src)
            if os.path.exists(go):
                os.remove(go)
                self.inject()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--a-port", type=int, required=True)
    p.add_argument("--b-port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--lifetime", type=float, default=240.0)
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Relay(args.a_port, args.b_port, args.dir, seed).run(args.lifetime)


if __name__ == "__main__":
    main()
