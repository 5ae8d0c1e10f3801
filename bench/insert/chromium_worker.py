#!/usr/bin/env python3
"""Insert-matrix worker for the wasm module in headless Chromium, driven by bench/insert/run.py.

    .venv-browser/bin/python bench/insert/chromium_worker.py --dist dist --data-dir DIR \
        [--counting-dist DIR] [--chromium /usr/bin/chromium]

Serves bench/insert/browser/page.html and page.mjs, DIST under /dist/, the
allocation-counter build under /counting/ and the data files under /data/
from 127.0.0.1 (a free port), with cross-origin isolation headers so that
performance.now() has its fine resolution; opens the page in Debian's
Chromium through Playwright (never Playwright's own browser download, as in
Tests/Browser), then reads one JSON command per stdin line (see
bench/insert/node_worker.mjs; "file" is a name in DIR), runs it in the page
with window.benchRun (window.benchInterleave for op interleave) and prints one JSON answer per line.
"""
import argparse
import http.server
import json
import os
import sys
import threading

from playwright.sync_api import sync_playwright

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(HERE, "browser")
TYPES = {".html": "text/html; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
         ".wasm": "application/wasm", ".f32": "application/octet-stream"}


def make_handler(roots):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?", 1)[0]
            file = None
            if path in ("/", "/index.html"):
                file = os.path.join(PAGE, "page.html")
            elif path in ("/page.mjs", "/timed_inserts.mjs"):
                file = os.path.join(PAGE, path.lstrip("/"))
            else:
                for prefix, root in roots.items():
                    if root and path.startswith(prefix):
                        candidate = os.path.realpath(os.path.join(root, path[len(prefix):]))
                        if candidate.startswith(os.path.realpath(root) + os.sep):
                            file = candidate
            if not file or not os.path.isfile(file):
                self.send_error(404)
                return
            with open(file, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", TYPES.get(os.path.splitext(file)[1], "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            # Cross-origin isolation: performance.now() at 5 µs instead of 100 µs.
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--counting-dist")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    roots = {"/dist/": os.path.abspath(args.dist), "/data/": os.path.abspath(args.data_dir),
             "/counting/": os.path.abspath(args.counting_dist) if args.counting_dist else None}

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(roots))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/" % server.server_address[1]
    problems = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--js-flags=--expose-gc"])
            page = browser.new_page()
            page.on("pageerror", lambda e: problems.append("page error: %s" % e))
            page.on("console", lambda m: problems.append("console %s: %s" % (m.type, m.text))
                    if m.type == "error" else None)
            page.goto(url)
            page.wait_for_function("window.benchReady === true", timeout=60000)
            info = page.evaluate("window.benchInfo")
            print(json.dumps({"ready": True, "chromium": browser.version, **info}), flush=True)
            for line in sys.stdin:
                if not line.strip():
                    continue
                cmd = json.loads(line)
                if cmd.get("op") == "quit":
                    break
                try:
                    run = "benchInterleave" if cmd.get("op") == "interleave" else "benchRun"
                    answer = page.evaluate("cmd => window.%s(cmd)" % run, cmd)
                except Exception as error:
                    answer = {"error": str(error).splitlines()[0]}
                if problems:
                    answer = {"error": "; ".join(problems)}
                    problems.clear()
                print(json.dumps(answer), flush=True)
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
