"""`shipping`: the demo's Python service, a plain WSGI app traced with the OpenTelemetry SDK.

It is what a team's service in another language looks like to usertrail: it knows nothing of
usertrail. It continues the browser's trace from `traceparent`, copies the browser's W3C
`baggage` (`session.id`, `user.id`, `account.id`) onto its spans with OpenTelemetry's
`BaggageSpanProcessor`, and exports them over OTLP/HTTP to the explorer, whose remap then
puts `usr.id`, `account.id` and `session.id` on this service's entry span.

    python app.py [--host 127.0.0.1] [--port 8084]

OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318) says where the explorer is;
OTEL_SERVICE_NAME defaults to `shipping`. Prints one line `shipping ready {"url": ...}` once
it listens, and flushes its spans on SIGTERM (or, with --exit-with-stdin, when stdin closes).
"""

import argparse
import json
import os
import signal
import sys
import threading
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.processor.baggage import ALLOW_ALL_BAGGAGE_KEYS, BaggageSpanProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

os.environ.setdefault("OTEL_SERVICE_NAME", "shipping")
provider = TracerProvider(resource=Resource.create({"service.version": "1.0.0"}))
# The browser's baggage onto every span of this service (the explorer keeps it on the entry
# span only, marked as coming from baggage).
provider.add_span_processor(BaggageSpanProcessor(ALLOW_ALL_BAGGAGE_KEYS))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=200))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("shipping", "1.0.0")

# Days to deliver, by how many items.
DAYS = {1: 2, 2: 2, 3: 3}


def quote(items):
    with tracer.start_as_current_span("shipping.rate") as span:
        span.set_attribute("items", items)
        return {"carrier": "usertrail post", "days": DAYS.get(items, 5)}


def app(environ, start_response):
    # The W3C headers as a carrier: WSGI spells `traceparent` as HTTP_TRACEPARENT.
    carrier = {
        key[5:].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    context = propagate.extract(carrier)
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "/")
    route = "/quote" if path == "/quote" else None
    with tracer.start_as_current_span(
        f"{method} {route}" if route else method,
        context=context,
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": method,
            "url.path": path,
            "url.scheme": "http",
            **({"http.route": route} if route else {}),
        },
    ) as span:
        if route is None:
            status, body = "404 Not Found", {"error": "no such route"}
        else:
            try:
                items = int(parse_qs(environ.get("QUERY_STRING", "")).get("items", ["1"])[0])
                status, body = "200 OK", quote(items)
            except ValueError:
                status, body = "400 Bad Request", {"error": "items is a number"}
        code = int(status.split()[0])
        span.set_attribute("http.response.status_code", code)
        if code >= 500:
            span.set_status(Status(StatusCode.ERROR))
        data = json.dumps(body).encode()
        start_response(status, [("content-type", "application/json"), ("content-length", str(len(data)))])
        return [data]


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description="The demo's shipping service (Python, OpenTelemetry).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8084)
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin closes (for test harnesses)")
    args = parser.parse_args()
    server = make_server(args.host, args.port, app, server_class=Server, handler_class=QuietHandler)
    host, port = server.server_address[:2]
    print("shipping ready " + json.dumps({"url": f"http://{host}:{port}"}), flush=True)

    def stop(*_):
        # Flushes every span before exit, as the OpenTelemetry SDK specification asks.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    if args.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    server.serve_forever()
    provider.shutdown()


if __name__ == "__main__":
    main()
