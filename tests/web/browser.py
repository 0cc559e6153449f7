"""Helpers of the browser tests: a page's errors, and a second site on another origin."""

import http.server
import threading

WORKERS = 3  # gunicorn processes behind the page in the browser tests


class PageErrors:
    """Console errors, uncaught exceptions and failed requests seen by one page."""

    def __init__(self, page):
        self.messages = []
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on("requestfailed", lambda request: self.messages.append(
            f"request failed: {request.method} {request.url} {request.failure}"))

    def on_console(self, message):
        """Keep console messages of type error."""
        if message.type == "error":
            self.messages.append(f"console: {message.text} at {message.location}")


class SecondOrigin:
    """A tiny site on another 127.0.0.1 port serving one page with a form to the app."""

    def __init__(self, html, host="127.0.0.1"):
        self.body = html.encode()  # may be replaced before __enter__, once the app's URL is known
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = origin.body
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
