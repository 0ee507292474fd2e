#!/usr/bin/python3
"""A signature-checking proxy in front of the test bed's S3 server.

The local S3 server accepts any signature; this proxy recomputes each
request's AWS Signature Version 4 with botocore (Debian's python3-botocore,
the reference implementation the `aws` client signs with) from the one
access key and secret it is given, refuses a request whose signature or
payload hash does not match (403 SignatureDoesNotMatch,
XAmzContentSHA256Mismatch, InvalidAccessKeyId, AccessDenied: S3's codes and
XML), and forwards the rest unchanged. Every request is logged as one JSON
line (method, path, query, status, refused reason) so tests can count the
parts an upload sent and see the uploads that were started, completed and
aborted.

    s3proxy.py --listen PORT --upstream PORT --access-key K --secret-key S
               --region R --log FILE --port-file FILE

Listens on 127.0.0.1 only. Tests only: never part of ferry.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import re
import sys
import threading

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
    r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-connection"}


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def expected_signature(cfg, method, path, headers, signed, region, service, amz_date):
    """The signature botocore computes for this request with our secret."""
    req = AWSRequest(method=method, url="http://" + headers.get("host", "") + path,
                     headers={h: headers.get(h, "") for h in signed})
    req.context["timestamp"] = amz_date
    auth = S3SigV4Auth(Credentials(cfg.access_key, cfg.secret_key), service, region)
    canonical = auth.canonical_request(req)
    return auth.signature(auth.string_to_sign(req, canonical), req)


def check_request(cfg, method, path, headers, body):
    """Raise Refused unless the request is signed with our key and secret."""
    authz = headers.get("authorization")
    if not authz:
        raise Refused("AccessDenied", "Access Denied (the request is not signed)")
    m = AUTH_RE.match(authz)
    if not m:
        raise Refused("AccessDenied", "unsupported Authorization header")
    key, day, region, service, signed_list, signature = m.groups()
    if key != cfg.access_key:
        raise Refused("InvalidAccessKeyId",
                      "The AWS Access Key Id you provided does not exist in our records.")
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(day) or region != cfg.region:
        raise Refused("SignatureDoesNotMatch", "the credential scope does not match the request")
    signed = signed_list.split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        raise Refused("AccessDenied", "host and x-amz-date must be signed")
    want = expected_signature(cfg, method, path, headers, signed, region, service, amz_date)
    if want != signature:
        raise Refused("SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your key and signing method.")
    claimed = headers.get("x-amz-content-sha256")
    if claimed is None:
        raise Refused("InvalidRequest", "missing x-amz-content-sha256")
    if claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
        raise Refused("XAmzContentSHA256Mismatch",
                      "The provided 'x-amz-content-sha256' header does not match what was computed.")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the JSON log says it all
        pass

    def _log(self, status, refused=None, extra=None):
        path, _, query = self.path.partition("?")
        line = {"method": self.command, "path": path, "query": query, "status": status}
        if refused:
            line["refused"] = refused
        if extra:
            line.update(extra)
        with self.server.log_lock:
            self.server.log.write(json.dumps(line) + "\n")
            self.server.log.flush()

    def _reply(self, status, headers, body, length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refuse(self, r):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                "<Message>%s</Message></Error>" % (r.code, r.message)).encode()
        status = 400 if r.code in ("InvalidRequest", "XAmzContentSHA256Mismatch") else 403
        self._log(status, refused=r.code)
        self._reply(status, [("Content-Type", "application/xml")], body)

    def _body(self):
        n = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise Refused("InvalidRequest", "chunked request bodies are not accepted here")
        return self.rfile.read(int(n)) if n else b""

    def _handle(self):
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._body()
            check_request(self.server.cfg, self.command, self.path, headers, body)
        except Refused as r:
            self._refuse(r)
            return
        up = http.client.HTTPConnection("127.0.0.1", self.server.cfg.upstream, timeout=300)
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        fwd["Content-Length"] = str(len(body))
        up.request(self.command, self.path, body=body, headers=fwd)
        resp = up.getresponse()
        data = resp.read()
        up.close()
        extra = {}
        m = re.search(rb"<UploadId>([^<]+)</UploadId>", data)
        if m:
            extra["upload_id"] = m.group(1).decode()
        self._log(resp.status, extra=extra)
        out = [(k, v) for k, v in resp.getheaders()
               if k.lower() not in HOP_HEADERS and k.lower() != "content-length"]
        length = resp.getheader("Content-Length") if self.command == "HEAD" else None
        self._reply(resp.status, out, data, length)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    cfg = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", cfg.listen), Handler)
    srv.daemon_threads = True
    srv.cfg = cfg
    srv.log = open(cfg.log, "a", encoding="utf-8")
    srv.log_lock = threading.Lock()
    with open(cfg.port_file + ".part", "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(cfg.port_file + ".part", cfg.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
