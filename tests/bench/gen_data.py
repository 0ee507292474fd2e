#!/usr/bin/env python3
"""Bench data for tests/bench/run.sh (deterministic: fixed seeds).

  gen_data.py docs ROWS       COPY text for table docs(id, title, body, blob):
                              ~1 KB of word text + 2 KB of random bytea a row
  gen_data.py app DIR SCALE   the app dir: ~60 MB of compressible logs and
                              ~40 MB of random binaries per unit of SCALE
"""
import os
import random
import sys

DOC_WORDS = (
    "invoice customer order shipment payment refund account balance ledger entry "
    "warehouse product catalog price discount tax region country city street postal "
    "code phone email status pending shipped delivered cancelled returned note comment "
    "review rating the a of and to in for with on by from at as is was be this that"
).split()

LOG_WORDS = (
    "GET POST /api/v1/orders /api/v1/customers 200 201 304 404 500 ms user_id session "
    "INFO WARN ERROR request completed started worker job queue retry timeout cache hit "
    "miss db query select insert update commit rollback latency bytes"
).split()


def docs(rows):
    rnd = random.Random(7)
    out = sys.stdout
    buf = []
    for i in range(1, rows + 1):
        title = " ".join(rnd.choices(DOC_WORDS, k=6))
        body = " ".join(rnd.choices(DOC_WORDS, k=170))
        blob = rnd.randbytes(2048).hex()
        buf.append(f"{i}\t{title}\t{body}\t\\\\x{blob}\n")
        if len(buf) == 1000:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))


def app(root, scale):
    rnd = random.Random(11)
    for d in ("logs", "uploads", "config"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for i in range(max(1, round(300 * scale))):          # 300 x ~200 KB of text
        lines, size = [], 0
        while size < 200_000:
            line = "2026-11-%02dT%02d:%02d:%02dZ %s\n" % (
                1 + i % 28, rnd.randrange(24), rnd.randrange(60), rnd.randrange(60),
                " ".join(rnd.choices(LOG_WORDS, k=12)))
            lines.append(line)
            size += len(line)
        with open(os.path.join(root, "logs", "app-%05d.log" % i), "w") as f:
            f.write("".join(lines))
    for i in range(max(1, round(20 * scale))):           # 20 x 2 MB random
        with open(os.path.join(root, "uploads", "photo-%05d.jpg" % i), "wb") as f:
            f.write(rnd.randbytes(2_000_000))
    for i in range(max(1, round(200 * scale))):          # 200 x 16 KB random
        with open(os.path.join(root, "uploads", "thumb-%05d.png" % i), "wb") as f:
            f.write(rnd.randbytes(16_000))
    with open(os.path.join(root, "config", "app.conf"), "w") as f:
        f.write("listen = 127.0.0.1:8080\nworkers = 4\n")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "docs":
        docs(int(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "app":
        app(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
