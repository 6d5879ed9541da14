#!/usr/bin/env python3
"""An HTTP(S) server on 127.0.0.1 for keel's data-access tests.

`python3 -m http.server` serves files and nothing else; the tests need a
server that misbehaves on purpose. It serves the files of one folder, and
the first path component picks how:

  /ok/FILE             200 with the bytes, honouring "Range: bytes=N-" (206)
  /fail/K/CODE/FILE    the first K requests for this path get CODE (e.g.
                       503, 429, 408) with "Retry-After: 1", then as /ok/
  /close/FILE          the first request sends the headers of the whole
                       file and half the body, then closes; later requests
                       (a resume with Range) as /ok/
  /norange/FILE        the first request closes early as /close/; every
                       request ignores Range and answers 200 with the whole
                       file, so a client must start over, not append
  /badrange/FILE       answers a Range request with 206 and a Content-Range
                       that starts before the asked offset
  /stall/FILE          sends half the body, then nothing for 30 s
  /slow/FILE           waits 1 s, then as /ok/ (so concurrent clients overlap)
  /wrong/FILE          200 with other bytes of the same length
  /auth/FILE           401 unless "Authorization: Bearer s3cret-token" or
                       the header "X-Keel-Key: s3cret-key" is sent
  /netrc/FILE          401 unless Basic auth user "ann", password "pw"
  /redirect/FILE       302 to /ok/FILE (a client sending its own credential
                       headers must not follow it)

Every request is appended to LOG (one JSON object per line: path, range,
headers that matter) so a test can count requests and see what was sent.

Usage: http_fixture_server.py ROOT PORTFILE LOG [--tls CERT KEY]
It binds port 0, writes the port it got to PORTFILE and serves until
killed (SIGTERM). The tests start and stop it themselves.
"""
import base64
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time

ROOT, PORTFILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
TLS = sys.argv[4:7] if len(sys.argv) >= 7 and sys.argv[4] == "--tls" else None
COUNTS = {}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the JSON log says it all
        pass

    def record(self):
        entry = {
            "path": self.path,
            "range": self.headers.get("Range"),
            "authorization": self.headers.get("Authorization"),
            "x_keel_key": self.headers.get("X-Keel-Key"),
        }
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            n = COUNTS[self.path]
            with open(LOG, "a") as f:
                f.write(json.dumps(entry) + "\n")
        return n

    def send_plain(self, code, text, extra=()):
        body = text.encode()
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_file(self, name):
        path = os.path.realpath(os.path.join(ROOT, name))
        if not path.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def range_start(self):
        r = self.headers.get("Range")
        if r and r.startswith("bytes=") and r.endswith("-"):
            try:
                return int(r[6:-1])
            except ValueError:
                return None
        return None

    def serve(self, data, honour_range=True, skew=0):
        start = self.range_start() if honour_range else None
        if start is not None and 0 <= start <= len(data):
            first = max(0, start - skew)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, len(data) - 1, len(data)))
            self.send_header("Content-Length", str(len(data) - first))
            self.end_headers()
            self.wfile.write(data[first:])
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def half_then_close(self, data):
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def do_GET(self):
        n = self.record()
        parts = self.path.split("?", 1)[0].lstrip("/").split("/")
        mode = parts[0]
        try:
            if mode == "fail":
                k, code, name = int(parts[1]), int(parts[2]), "/".join(parts[3:])
            else:
                name = "/".join(parts[1:])
        except (ValueError, IndexError):
            return self.send_plain(400, "bad fixture path\n")
        data = self.read_file(name)
        if data is None:
            return self.send_plain(404, "no such file\n")
        if mode == "ok":
            return self.serve(data)
        if mode == "redirect":
            return self.send_plain(302, "moved\n", [("Location", "/ok/" + name)])
        if mode == "slow":
            time.sleep(1)
            return self.serve(data)
        if mode == "fail":
            if n <= k:
                return self.send_plain(code, "try again\n", [("Retry-After", "1")])
            return self.serve(data)
        if mode == "close":
            return self.half_then_close(data) if n == 1 else self.serve(data)
        if mode == "norange":
            return self.half_then_close(data) if n == 1 else self.serve(data, honour_range=False)
        if mode == "badrange":
            return self.half_then_close(data) if n == 1 else self.serve(data, skew=10)
        if mode == "stall":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
            return
        if mode == "wrong":
            return self.serve(bytes((b ^ 0x01) for b in data))
        if mode == "auth":
            ok = self.headers.get("Authorization") == "Bearer s3cret-token" or \
                self.headers.get("X-Keel-Key") == "s3cret-key"
            return self.serve(data) if ok else self.send_plain(401, "who are you\n")
        if mode == "netrc":
            want = "Basic " + base64.b64encode(b"ann:pw").decode()
            return self.serve(data) if self.headers.get("Authorization") == want else \
                self.send_plain(401, "who are you\n", [("WWW-Authenticate", 'Basic realm="k"')])
        return self.send_plain(404, "unknown fixture mode\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(TLS[1], TLS[2])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
