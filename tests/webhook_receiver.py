#!/usr/bin/env python3
"""A webhook receiver for the integration tests: an HTTP server on
127.0.0.1 (a free port) that keeps every POST it gets.

    webhook_receiver.py DIR [--fail-first N]

Writes DIR/port once it listens; each request goes to DIR/NNN.json (the
body) and DIR/NNN.headers (one "Name: value" line each), numbered from 001;
the first N requests are answered 503, the rest 200. Runs until killed.
"""
import http.server
import os
import sys


def main():
    out = sys.argv[1]
    fail_first = 0
    if len(sys.argv) > 3 and sys.argv[2] == "--fail-first":
        fail_first = int(sys.argv[3])
    seen = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen[0] += 1
            n = seen[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            base = os.path.join(out, "%03d" % n)
            with open(base + ".headers", "w") as f:
                for name, value in self.headers.items():
                    f.write("%s: %s\n" % (name, value))
            with open(base + ".json.part", "wb") as f:
                f.write(body)
            os.rename(base + ".json.part", base + ".json")
            status = 503 if n <= fail_first else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok\n" if status == 200 else b"busy\n")

        def log_message(self, fmt, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(out, "port.part"), "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(os.path.join(out, "port.part"), os.path.join(out, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
