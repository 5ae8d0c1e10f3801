#!/usr/bin/env python3
"""Runs the browser test pages against dist/ in headless Chromium.

    .venv-browser/bin/python Tests/Browser/run_browser_test.py [--dist dist] [--timeout 120]

Serves the test pages and dist/ (edgevec.mjs, edgevec-worker.mjs, the .wasm
files) from 127.0.0.1 on a free port, opens each page in Debian's
/usr/bin/chromium through Playwright (never Playwright's own browser
download), waits for window.__done, and prints every check. The pages:
index.html (smoke.mjs: the API, both variants, IndexedDB) and worker.html
(worker-test.mjs: EdgeVecWorker builds 20,000 x 384 vectors while the page
keeps drawing, against the same build on the main thread). Fails on a failed check, an uncaught
page error, a console error, or a failed or non-2xx request. Ends with
"N passed, N failed". `make test-browser` installs chromium and the venv.
"""
import argparse
import http.server
import os
import sys
import threading

from playwright.sync_api import sync_playwright

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE_FILES = {"/": "index.html", "/index.html": "index.html", "/smoke.mjs": "smoke.mjs",
              "/worker.html": "worker.html", "/worker-test.mjs": "worker-test.mjs",
              "/prng.mjs": os.path.join("..", "..", "js", "test-support", "prng.mjs")}
PAGES = ["/", "/worker.html"]
TYPES = {".html": "text/html; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm",
         ".ts": "text/plain; charset=utf-8", ".map": "application/json"}


def make_handler(dist):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in PAGE_FILES:
                file = os.path.join(HERE, PAGE_FILES[path])
            else:
                file = os.path.realpath(os.path.join(dist, path.lstrip("/")))
                if not file.startswith(os.path.realpath(dist) + os.sep):
                    file = None
            if not file or not os.path.isfile(file):
                self.send_error(404)
                return
            body = open(file, "rb").read()
            self.send_response(200)
            self.send_header("Content-Type", TYPES.get(os.path.splitext(file)[1], "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the page (default 120)")
    args = parser.parse_args()
    dist = os.path.abspath(args.dist)
    for name in ("edgevec.mjs", "edgevec.wasm", "edgevec-arena.wasm", "edgevec-worker.mjs", "edgevec-worker-main.mjs"):
        if not os.path.isfile(os.path.join(dist, name)):
            print("FAIL: %s is missing (run make wasm)" % os.path.join(dist, name))
            print("0 passed, 1 failed")
            return 1

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(dist))  # port 0: a free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/" % server.server_address[1]
    print("serving %s and Tests/Browser at %s" % (os.path.relpath(dist, ROOT), url))

    problems = []   # console errors, page errors, failed requests
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=["--no-sandbox"])
            print("browser: Chromium %s" % browser.version)
            for path in PAGES:
                page = browser.new_page()
                page.on("console", lambda m: problems.append("console %s: %s" % (m.type, m.text))
                        if m.type in ("error", "assert") else None)
                page.on("pageerror", lambda e: problems.append("uncaught page error: %s" % e))
                page.on("requestfailed", lambda r: problems.append("request failed: %s %s" % (r.url, r.failure)))
                page.on("response", lambda r: problems.append("HTTP %d for %s" % (r.status, r.url))
                        if r.status >= 400 else None)
                page.goto(url + path.lstrip("/"))
                try:
                    page.wait_for_function("window.__done === true", timeout=args.timeout * 1000)
                except Exception as error:  # timeout: report what finished
                    problems.append("%s did not finish within %gs: %s"
                                    % (path, args.timeout, str(error).splitlines()[0]))
                page_results = page.evaluate("window.__results || []")
                if not page_results:
                    problems.append("%s reported no results" % path)
                results += [dict(r, name="%s %s" % (path, r["name"])) for r in page_results]
                page.close()
            browser.close()
    finally:
        server.shutdown()

    passed = failed = 0
    for r in results:
        if r["ok"]:
            passed += 1
            print("ok   %s%s" % (r["name"], ": " + r["detail"] if r["detail"] else ""))
        else:
            failed += 1
            print("FAIL %s: %s" % (r["name"], r["detail"]))
    for problem in problems:
        failed += 1
        print("FAIL %s" % problem)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
