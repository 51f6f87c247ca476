#!/usr/bin/env python3
"""A webhook receiver for the tests: listens on 127.0.0.1 (a free port, written to PORT_FILE once bound),
answers 500 to the first FAILS POSTs of each path and 200 after, and appends one JSON line per POST to LOG:
{"path", "status", "headers", "body"}. Runs until killed."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port_file, log, fails = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8", "replace")
        n = seen.get(self.path, 0)
        seen[self.path] = n + 1
        status = 500 if n < fails else 200
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "status": status, "headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
