#!/usr/bin/python3
"""interop_test - the zstore wire protocol spoken from Python.

Drives a real zstore-broker with nothing but Debian's python3-zmq and
python3-msgpack and proto/PROTOCOL.md: no zstore code. It is the proof that
the document is enough to write a client in another language.

    /usr/bin/python3 tests/interop_test.py <path to zstore-broker>

Every test starts its own broker on ephemeral loopback ports with a fresh
database in a temporary directory, and stops it with SIGTERM in tearDown
(killing it if it does not stop). Every wait has a deadline.
"""

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

BROKER = None               # set from argv in main()
STARTUP_TIMEOUT = 10.0      # seconds to "zstore-broker: ready"
REPLY_TIMEOUT = 5.0         # seconds for one reply or one event
STOP_TIMEOUT = 10.0         # seconds from SIGTERM to exit


def escape(raw):
    """E(x) of PROTOCOL.md 3.2: 0x00 -> 01 01, 0x01 -> 01 02, others as-is."""
    out = bytearray()
    for byte in raw:
        if byte == 0x00:
            out += b"\x01\x01"
        elif byte == 0x01:
            out += b"\x01\x02"
        else:
            out.append(byte)
    return bytes(out)


def group_topic(group):
    return b"d" + escape(group) + b"\x00"


def key_topic(group, key):
    return b"d" + escape(group) + b"\x00" + escape(key) + b"\x00"


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False)


class Broker:
    """One zstore-broker process with its bound endpoints."""

    def __init__(self, path, tmpdir):
        self.stdout_lines = []
        self.proc = subprocess.Popen(
            [path,
             "--db", os.path.join(tmpdir, "interop.db"),
             "--requests", "tcp://127.0.0.1:*",
             "--events", "tcp://127.0.0.1:*"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._pending = b""
        self.requests = None
        self.events = None
        self._wait_ready()

    def _read_line(self, deadline):
        """The next stdout line (str, no newline), or None at EOF.
        Raises TimeoutError at the deadline."""
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no line from the broker in time; so far: %r"
                                       % self.stdout_lines)
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        line = line.decode("utf-8", "replace")
        self.stdout_lines.append(line)
        return line

    def _wait_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            line = self._read_line(deadline)
            if line is None:
                raise RuntimeError("broker exited before ready (status %r); stdout: %r"
                                   % (self.proc.poll(), self.stdout_lines))
            if line.startswith("zstore-broker: requests "):
                self.requests = line.split(" ", 2)[2].strip()
            elif line.startswith("zstore-broker: events "):
                self.events = line.split(" ", 2)[2].strip()
            elif line.strip() == "zstore-broker: ready":
                break
        if not self.requests or not self.events:
            raise RuntimeError("ready without both endpoints: %r" % self.stdout_lines)

    def rest_of_stdout(self, deadline):
        """Reads stdout to EOF (after the broker exits)."""
        lines = []
        try:
            while True:
                line = self._read_line(deadline)
                if line is None:
                    break
                lines.append(line)
        except TimeoutError:
            pass
        return lines

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.stdout:
            self.proc.stdout.close()


class Client:
    """A DEALER client: one frame out, one frame back, matched by id."""

    def __init__(self, ctx, endpoint):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.next_id = 1

    def send_raw(self, frame):
        self.sock.send(frame)

    def recv_reply(self, timeout=REPLY_TIMEOUT):
        if not self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            raise TimeoutError("no reply in %.1f s" % timeout)
        frames = self.sock.recv_multipart()
        assert len(frames) == 1, "a DEALER reply is one frame, got %d" % len(frames)
        reply = unpack(frames[0])
        assert isinstance(reply, dict), "reply is not a map: %r" % (reply,)
        return reply

    def call(self, op, **fields):
        """Sends a request with a fresh id; answers the reply with that id."""
        request_id = self.next_id
        self.next_id += 1
        body = {"id": request_id, "op": op}
        body.update(fields)
        self.sock.send(pack(body))
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            reply = self.recv_reply(max(0.0, deadline - time.monotonic()))
            if reply.get("id") == request_id:
                return reply

    def close(self):
        self.sock.close(0)


class Watcher:
    """A SUB socket on the events endpoint."""

    def __init__(self, ctx, endpoint):
        self.sock = ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.token_count = 0

    def subscribe(self, prefix):
        self.sock.setsockopt(zmq.SUBSCRIBE, prefix)

    def recv(self, timeout=REPLY_TIMEOUT):
        """(topic, body) of the next message."""
        if not self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            raise TimeoutError("no event in %.1f s" % timeout)
        frames = self.sock.recv_multipart()
        assert len(frames) == 2, "an event message has two frames, got %d" % len(frames)
        body = unpack(frames[1])
        assert isinstance(body, dict), "event body is not a map: %r" % (body,)
        return frames[0], body

    def sync(self):
        """PROTOCOL.md 4.1: subscribe to s+token, wait for the marker on that
        exact topic, unsubscribe. Answers (marker body, messages received
        before the marker): since XPUB keeps a connection's order, every
        subscription made earlier is live once the marker arrives."""
        token = os.urandom(16)
        topic = b"s" + token
        self.subscribe(topic)
        before = []
        deadline = time.monotonic() + REPLY_TIMEOUT
        try:
            while True:
                got_topic, body = self.recv(max(0.0, deadline - time.monotonic()))
                if got_topic == topic:
                    return body, before
                before.append((got_topic, body))
        finally:
            self.sock.setsockopt(zmq.UNSUBSCRIBE, topic)

    def drain_until_published(self, seq):
        """Every message this socket will get for events up to `seq` (the
        all-events sequence): syncs until the marker reports seq >= `seq`,
        collecting what came before each marker."""
        collected = []
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            marker, before = self.sync()
            collected += before
            if marker["seq"] >= seq:
                return collected
            if time.monotonic() > deadline:
                raise TimeoutError("marker seq %d never reached %d" % (marker["seq"], seq))

    def expect_nothing(self, timeout=0.0):
        if self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            raise AssertionError("unexpected message: %r" % (self.sock.recv_multipart(),))

    def close(self):
        self.sock.close(0)


class InteropTest(unittest.TestCase):

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix="zstore-interop-")
        self.ctx = zmq.Context()
        self.sockets = []
        self.broker = None
        try:
            self.broker = Broker(BROKER, self.tmpdir)
            self.client = self.new_client()
        except BaseException:
            self._cleanup()
            raise

    def tearDown(self):
        status = None
        stdout = []
        try:
            for sock in self.sockets:
                sock.close()
            status = self.broker.stop()
            stdout = self.broker.rest_of_stdout(time.monotonic() + STOP_TIMEOUT)
        finally:
            self._cleanup()
        self.assertEqual(status, 0, "broker exit status after SIGTERM (None = killed)")
        self.assertIn("zstore-broker: stopped", stdout)

    def _cleanup(self):
        if self.broker is not None:
            self.broker.kill()
        self.ctx.destroy(linger=0)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    # helpers

    def new_client(self):
        client = Client(self.ctx, self.broker.requests)
        self.sockets.append(client)
        return client

    def new_watcher(self, *prefixes):
        watcher = Watcher(self.ctx, self.broker.events)
        self.sockets.append(watcher)
        for prefix in prefixes:
            watcher.subscribe(prefix)
        watcher.sync()
        return watcher

    def ok(self, op, **fields):
        reply = self.client.call(op, **fields)
        self.assertEqual((reply["status"], reply["code"]), (0, "ok"),
                         "%s %r -> %r" % (op, fields, reply))
        self.assertNotIn("error", reply)
        return reply

    def fails(self, status, code, op, **fields):
        reply = self.client.call(op, **fields)
        self.assertEqual((reply["status"], reply["code"]), (status, code),
                         "%s %r -> %r" % (op, fields, reply))
        self.assertIsInstance(reply.get("error"), str)
        return reply

    def store_rev(self):
        return self.ok("ping")["rev"]

    # 1. set, get, compare-and-set, delete

    def test_1_set_get_cas_delete(self):
        start = self.store_rev()
        r1 = self.ok("set", group=b"users", key=b"alice", value=b"v1")["rev"]
        self.assertEqual(r1, start + 1)

        got = self.ok("get", group=b"users", key=b"alice")
        self.assertEqual(got["value"], b"v1")
        self.assertIsInstance(got["value"], bytes, "values come back as bin")
        self.assertEqual((got["create_rev"], got["mod_rev"], got["expires_at"]), (r1, r1, 0))

        r2 = self.ok("set", group=b"users", key=b"alice", value=b"v2")["rev"]
        self.assertEqual(r2, r1 + 1)
        got = self.ok("get", group=b"users", key=b"alice")
        self.assertEqual((got["value"], got["create_rev"], got["mod_rev"]), (b"v2", r1, r2))

        # compare-and-set: a stale revision and "must not exist" both conflict
        self.fails(5, "conflict", "set", group=b"users", key=b"alice", value=b"lost", if_rev=r1)
        self.fails(5, "conflict", "set", group=b"users", key=b"alice", value=b"lost", if_rev=0)
        self.assertEqual(self.ok("get", group=b"users", key=b"alice")["value"], b"v2")
        self.assertEqual(self.store_rev(), r2, "a conflict commits nothing")
        r3 = self.ok("set", group=b"users", key=b"alice", value=b"v3", if_rev=r2)["rev"]
        self.assertEqual(r3, r2 + 1)
        r4 = self.ok("set", group=b"users", key=b"bob", value=b"b", if_rev=0)["rev"]
        self.assertEqual(r4, r3 + 1)

        # str is accepted for B fields; the answer is still bin
        got = self.ok("get", group="users", key="alice")
        self.assertEqual(got["value"], b"v3")

        r5 = self.ok("delete", group=b"users", key=b"alice")["rev"]
        self.assertEqual(r5, r4 + 1)
        self.fails(1, "not_found", "get", group=b"users", key=b"alice")
        self.assertEqual(self.ok("exists", group=b"users", key=b"alice")["exists"], False)
        self.assertEqual(self.ok("delete", group=b"users", key=b"alice")["rev"], 0,
                         "deleting a missing key changes nothing")
        self.assertEqual(self.store_rev(), r5)

        # ids of every allowed type are echoed
        for request_id in (7, "seven", b"\x00seven"):
            self.client.send_raw(pack({"id": request_id, "op": "ping"}))
            reply = self.client.recv_reply()
            self.assertEqual((reply["id"], reply["status"]), (request_id, 0))

    # 2. transactions

    def test_2_txn_commit_and_rollback(self):
        self.ok("set", group=b"t", key=b"old", value=b"o")
        r_keep = self.ok("set", group=b"t", key=b"keep", value=b"k")["rev"]
        before = self.store_rev()

        reply = self.ok("txn", ops=[
            {"op": "set", "group": b"t", "key": b"a", "value": b"1"},
            {"op": "set", "group": b"t", "key": b"b", "value": b"2"},
            {"op": "delete", "group": b"t", "key": b"old"},
            {"op": "get", "group": b"t", "key": b"a"},
            {"op": "get", "group": b"t", "key": b"missing"},
            {"op": "count", "group": b"t"},
        ])
        rev = reply["rev"]
        self.assertEqual(rev, before + 1, "one transaction, one revision")
        results = reply["results"]
        self.assertEqual(len(results), 6)
        self.assertEqual([r["status"] for r in results], [0, 0, 0, 0, 1, 0])
        self.assertEqual(results[4]["code"], "not_found")
        self.assertEqual(results[0]["rev"], rev)
        self.assertEqual(results[1]["rev"], rev)
        self.assertEqual(results[2]["rev"], rev)
        self.assertEqual(results[3]["value"], b"1", "a txn reads its own writes")
        self.assertEqual(results[5]["count"], 3, "keep, a, b")
        for key, value in ((b"a", b"1"), (b"b", b"2")):
            got = self.ok("get", group=b"t", key=key)
            self.assertEqual((got["value"], got["create_rev"], got["mod_rev"]),
                             (value, rev, rev))
        self.fails(1, "not_found", "get", group=b"t", key=b"old")

        # a conflict in op 2: nothing of ops 0..3 is applied
        reply = self.fails(5, "conflict", "txn", ops=[
            {"op": "set", "group": b"t", "key": b"x", "value": b"never"},
            {"op": "delete", "group": b"t", "key": b"a"},
            {"op": "set", "group": b"t", "key": b"keep", "value": b"lost", "if_rev": r_keep + 1000},
            {"op": "delete_group", "group": b"t"},
        ])
        self.assertEqual(reply["failed"], 2)
        self.assertIn("2", reply["error"], "the error names the failed index")
        self.assertEqual(self.store_rev(), rev, "a failed transaction commits nothing")
        self.fails(1, "not_found", "get", group=b"t", key=b"x")
        self.assertEqual(self.ok("get", group=b"t", key=b"a")["value"], b"1")
        got = self.ok("get", group=b"t", key=b"keep")
        self.assertEqual((got["value"], got["mod_rev"]), (b"k", r_keep))
        self.assertEqual(self.ok("count", group=b"t")["count"], 3)

    # 3. watching a group

    def check_event(self, event, etype, group, key, value, rev, prev_rev):
        topic, body = event
        self.assertEqual(body["type"], etype, body)
        self.assertEqual(body["group"], group, body)
        self.assertEqual(body["key"], key, body)
        if etype == "set":
            self.assertEqual(body["value"], value, body)
        else:
            self.assertNotIn("value", body, "value is for set only")
        self.assertEqual(body["rev"], rev, body)
        self.assertEqual(body["prev_rev"], prev_rev, body)
        self.assertEqual((body["idx"], body["n"]), (0, 1), body)
        self.assertEqual(body["expires_at"], 0, body)
        if key or etype != "delete_group":
            self.assertEqual(topic, key_topic(group, key))
        else:
            self.assertEqual(topic, group_topic(group))

    def test_3_watch_group(self):
        # a key that survives until delete_group, written before the watch
        keep_rev = self.ok("set", group=b"orders", key=b"keep", value=b"k")["rev"]

        watcher = self.new_watcher(group_topic(b"orders"))
        r1 = self.ok("set", group=b"orders", key=b"o-1", value=b"new")["rev"]
        r2 = self.ok("set", group=b"orders", key=b"o-1", value=b"changed")["rev"]
        r3 = self.ok("delete", group=b"orders", key=b"o-1")["rev"]
        r4 = self.ok("delete_group", group=b"orders")["rev"]
        r5 = self.ok("set", group=b"orders2", key=b"o-1", value=b"other")["rev"]
        self.assertEqual([r1, r2, r3, r4, r5], list(range(keep_rev + 1, keep_rev + 6)))
        self.assertEqual(self.ok("group_exists", group=b"orders")["exists"], False)

        events = [watcher.recv() for _ in range(4)]
        self.check_event(events[0], "set", b"orders", b"o-1", b"new", r1, 0)
        self.check_event(events[1], "set", b"orders", b"o-1", b"changed", r2, r1)
        self.check_event(events[2], "delete", b"orders", b"o-1", None, r3, r2)
        self.check_event(events[3], "delete_group", b"orders", b"", None, r4, 0)

        bodies = [body for _, body in events]
        self.assertEqual(len({body["epoch"] for body in bodies}), 1)
        gseqs = [body["gseq"] for body in bodies]
        # "keep" was event 1 of the group in this epoch
        self.assertEqual(gseqs, [2, 3, 4, 5], "gseq is contiguous, from 1 per epoch")
        seqs = [body["seq"] for body in bodies]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 4)))

        # the orders2 event (seq + 1) is published; it must not have come here
        extra = watcher.drain_until_published(seqs[-1] + 1)
        self.assertEqual(extra, [], "only the watched group's events")
        watcher.expect_nothing()

        # a watch on everything does see orders2, right after the group delete
        everything = self.new_watcher(b"d")
        r6 = self.ok("set", group=b"orders2", key=b"o-2", value=b"x")["rev"]
        topic, body = everything.recv()
        self.assertEqual(topic, key_topic(b"orders2", b"o-2"))
        self.assertEqual((body["rev"], body["seq"], body["gseq"]), (r6, seqs[-1] + 2, 2))

    # 4. binary groups, keys and values

    def test_4_binary_round_trip(self):
        # the spec's worked example
        self.assertEqual(key_topic(b"g\x00x", b"\x01"),
                         bytes.fromhex("64 67 01 01 78 00 01 02 00"))

        group = b"bin\x00grp\x01"
        key = b"\x00k\x00\x01\x02\xff"
        value = b"\x00\x01\x00value\xff\x00"
        watcher = self.new_watcher(group_topic(group))

        rev = self.ok("set", group=group, key=key, value=value)["rev"]
        got = self.ok("get", group=group, key=key)
        self.assertEqual((got["value"], got["mod_rev"]), (value, rev))
        items = self.ok("get_all", group=group)["items"]
        self.assertEqual([(i["key"], i["value"]) for i in items], [(key, value)])
        self.assertEqual(self.ok("groups", prefix=b"bin\x00")["groups"], [group])

        topic, body = watcher.recv()
        self.assertEqual(topic, b"dbin\x01\x01grp\x01\x02\x00\x01\x01k\x01\x01\x01\x02\x02\xff\x00")
        self.assertEqual(topic, key_topic(group, key))
        self.assertEqual(topic.count(b"\x00"), 2, "only the two separators are NUL")
        self.assertEqual((body["type"], body["group"], body["key"], body["value"], body["rev"]),
                         ("set", group, key, value, rev))

        # a group that differs only after a NUL is another group
        self.ok("set", group=b"bin", key=key, value=b"other")
        self.assertEqual(watcher.drain_until_published(body["seq"] + 1), [])

        self.ok("delete", group=group, key=key)
        topic, body = watcher.recv()
        self.assertEqual((topic, body["type"], body["prev_rev"]),
                         (key_topic(group, key), "delete", rev))

    # 5. errors

    def test_5_errors(self):
        self.fails(9, "unknown_op", "no-such-op", group=b"g")

        for body in (pack([1, 2, 3]), pack("set"), pack(42), b"\xc1"):
            self.client.send_raw(body)
            reply = self.client.recv_reply()
            self.assertEqual((reply["status"], reply["code"]), (8, "bad_request"),
                             "%r -> %r" % (body, reply))
            self.assertIsInstance(reply["error"], str)
            self.assertNotIn("id", reply)

        self.fails(8, "bad_request", "set", group=b"g", key=b"k")          # no value
        self.fails(8, "bad_request", "get", group=b"g", key=42)            # wrong type
        self.client.send_raw(pack({"id": 99}))                               # no op
        reply = self.client.recv_reply()
        self.assertEqual((reply["id"], reply["status"]), (99, 8))
        self.fails(11, "unsupported_version", "ping", v=99)

        # the connection is still good
        self.assertEqual(self.store_rev(), 0)


def main():
    global BROKER
    if len(sys.argv) < 2:
        sys.stderr.write("usage: %s <path to zstore-broker> [unittest args]\n" % sys.argv[0])
        return 2
    BROKER = os.path.abspath(sys.argv[1])
    if not os.access(BROKER, os.X_OK):
        sys.stderr.write("%s: not an executable\n" % BROKER)
        return 2
    program = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], exit=False, verbosity=2)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
