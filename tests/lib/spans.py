#!/usr/bin/env python3
"""Queries over the spans file written by otlp_receiver.py, for bats tests.

  spans.py FILE count [filters]                 number of matching spans
  spans.py FILE get [filters] [--index I] [--all] FIELD
                                                value of FIELD in the first
                                                (or I-th, or every) match
  spans.py FILE wait --count N [--timeout SEC] [filters]
                                                until at least N spans match
  spans.py FILE dump [filters]                  pretty-printed spans
  spans.py FILE tree [filters]                  traces as indented trees
  spans.py FILE requests count|dump|get|wait ...
                                                the same over FILE.requests

Filters: --service S, --kind server|client|internal|producer|consumer|N,
--name N, --trace-id T, --span-id S, --parent S, --root, --status
unset|ok|error|N, --attr KEY=VALUE (repeatable; VALUE as `get` prints it);
for requests: --path P.

FIELD is a top-level key (name, kind, trace_id, ...) or a dotted path into
a dict: `attributes.http.request.method` reads the attribute whose key is
"http.request.method"; `resource.service.name`, `headers.content-encoding`
likewise. Strings print raw, booleans as true/false, dicts and lists as JSON.
Exit status 1 with a message on stderr when nothing matches, a field is
missing or a wait times out; 2 on usage errors.
"""

import argparse
import json
import os
import sys
import time

KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
KIND_NAMES = {v: k.upper() for k, v in KINDS.items()}
STATUSES = {"unset": 0, "ok": 1, "error": 2}
STATUS_NAMES = {v: k.upper() for k, v in STATUSES.items()}
DICT_FIELDS = ("attributes", "resource", "headers")


class Failure(Exception):
    pass


def load(path):
    """Records of a JSON-lines file; a missing file is empty. A last line
    without its newline may still be being written and is left out."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    if lines and not text.endswith("\n"):
        lines = lines[:-1]
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise Failure("%s:%d: not JSON: %s" % (path, number, e)) from None
    return records


def format_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def lookup(record, field):
    """Value of FIELD in record, or raises KeyError."""
    if field in record:
        return record[field]
    for prefix in DICT_FIELDS:
        if field.startswith(prefix + ".") and isinstance(record.get(prefix), dict):
            return record[prefix][field[len(prefix) + 1:]]
    raise KeyError(field)


def parse_enum(value, names, what):
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return names[value.lower()]
    except KeyError:
        raise Failure("unknown %s %r (one of %s)" % (what, value, ", ".join(names))) from None


def span_matches(span, args):
    if args.service is not None and span.get("service") != args.service:
        return False
    if args.kind is not None and span.get("kind") != parse_enum(args.kind, KINDS, "kind"):
        return False
    if args.name is not None and span.get("name") != args.name:
        return False
    if args.trace_id is not None and span.get("trace_id") != args.trace_id.lower():
        return False
    if args.span_id is not None and span.get("span_id") != args.span_id.lower():
        return False
    if args.parent is not None and span.get("parent_span_id") != args.parent.lower():
        return False
    if args.root and span.get("parent_span_id"):
        return False
    if args.status is not None and span.get("status_code") != parse_enum(args.status, STATUSES, "status"):
        return False
    for pair in args.attr or []:
        key, sep, want = pair.partition("=")
        if not sep:
            raise Failure("--attr wants KEY=VALUE, got %r" % pair)
        attrs = span.get("attributes", {})
        if key not in attrs or format_value(attrs[key]) != want:
            return False
    return True


def request_matches(req, args):
    return args.path is None or req.get("path") == args.path


def describe_filters(args, names):
    parts = []
    for name in names:
        value = getattr(args, name, None)
        if value not in (None, False, []):
            parts.append("--%s %s" % (name.replace("_", "-"), value))
    return " ".join(parts) or "(no filter)"


SPAN_FILTERS = ("service", "kind", "name", "trace_id", "span_id", "parent", "root", "status", "attr")
REQUEST_FILTERS = ("path",)


def summary_line(span):
    return "%s %s %r status=%s trace=%s span=%s parent=%s" % (
        span.get("service"), KIND_NAMES.get(span.get("kind"), span.get("kind")), span.get("name"),
        STATUS_NAMES.get(span.get("status_code"), span.get("status_code")),
        span.get("trace_id"), span.get("span_id"), span.get("parent_span_id") or "-")


def select(args):
    if args.requests:
        records = load(args.file + ".requests")
        return records, [r for r in records if request_matches(r, args)], REQUEST_FILTERS
    records = load(args.file)
    return records, [s for s in records if span_matches(s, args)], SPAN_FILTERS


def cmd_count(args):
    _, matches, _ = select(args)
    print(len(matches))


def cmd_get(args):
    records, matches, filters = select(args)
    what = "request" if args.requests else "span"
    if not matches:
        raise Failure("no %s matches %s (%d in file)" % (what, describe_filters(args, filters), len(records)))
    if args.all:
        chosen = matches
    else:
        try:
            chosen = [matches[args.index]]
        except IndexError:
            raise Failure("only %d %s(s) match %s, no index %d" % (
                len(matches), what, describe_filters(args, filters), args.index)) from None
    for record in chosen:
        try:
            value = lookup(record, args.field)
        except KeyError:
            raise Failure("%s has no field %r: %s" % (what, args.field, json.dumps(record, sort_keys=True))) from None
        print(format_value(value))


def cmd_wait(args):
    deadline = time.monotonic() + args.timeout
    while True:
        records, matches, filters = select(args)
        if len(matches) >= args.count:
            print(len(matches))
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    what = "requests" if args.requests else "spans"
    lines = ["timed out after %gs waiting for %d %s matching %s: %d match, %d in %s" % (
        args.timeout, args.count, what, describe_filters(args, filters), len(matches), len(records),
        args.file + (".requests" if args.requests else ""))]
    if not args.requests:
        lines += ["  " + summary_line(s) for s in records[:50]]
    raise Failure("\n".join(lines))


def cmd_dump(args):
    _, matches, _ = select(args)
    for record in matches:
        print(json.dumps(record, indent=2, sort_keys=True))


def duration_ms(span):
    return (span.get("end", 0) - span.get("start", 0)) / 1e6


def cmd_tree(args):
    _, spans, _ = select(args)
    traces = {}
    for span in spans:
        traces.setdefault(span.get("trace_id"), []).append(span)
    ordered = sorted(traces.items(), key=lambda kv: min(s.get("start", 0) for s in kv[1]))
    for trace_id, members in ordered:
        # A span id seen twice means the span was exported twice: show it
        # apart rather than hide it.
        unique = {}
        duplicates = []
        for span in sorted(members, key=lambda s: s.get("start", 0)):
            if span.get("span_id") in unique:
                duplicates.append(span)
            else:
                unique[span.get("span_id")] = span
        children = {}
        roots = []
        for span in unique.values():
            parent = span.get("parent_span_id")
            if parent and parent in unique and parent != span.get("span_id"):
                children.setdefault(parent, []).append(span)
            else:
                roots.append(span)
        start = min(s.get("start", 0) for s in members)
        end = max(s.get("end", 0) for s in members)
        print("trace %s  (%d span%s, %.3f ms)" % (trace_id, len(members), "" if len(members) == 1 else "s",
                                                 (end - start) / 1e6))
        seen = set()

        def show(span, depth):
            if span.get("span_id") in seen:
                return
            seen.add(span.get("span_id"))
            status = STATUS_NAMES.get(span.get("status_code"), str(span.get("status_code")))
            code = span.get("attributes", {}).get("http.response.status_code")
            extra = "  http %s" % code if code is not None else ""
            remote = "  (remote parent %s)" % span["parent_span_id"] if depth == 0 and span.get(
                "parent_span_id") else ""
            print("%s%-6s %-20s %-30s %-5s %9.3f ms%s%s" % (
                "  " * (depth + 1), KIND_NAMES.get(span.get("kind"), span.get("kind")), span.get("service"),
                span.get("name"), status, duration_ms(span), extra, remote))
            for child in children.get(span.get("span_id"), []):
                show(child, depth + 1)

        for root in roots:
            show(root, 0)
        for span in duplicates:
            print("  DUPLICATE " + summary_line(span))


def add_span_filters(p):
    p.add_argument("--service")
    p.add_argument("--kind")
    p.add_argument("--name")
    p.add_argument("--trace-id")
    p.add_argument("--span-id")
    p.add_argument("--parent", help="parent span id")
    p.add_argument("--root", action="store_true", help="only spans without a parent")
    p.add_argument("--status")
    p.add_argument("--attr", action="append", metavar="KEY=VALUE")


def add_commands(sub, requests):
    def command(name, func, help_text):
        p = sub.add_parser(name, help=help_text)
        if requests:
            p.add_argument("--path")
        else:
            add_span_filters(p)
        p.set_defaults(func=func, requests=requests)
        return p

    command("count", cmd_count, "number of matches")
    p = command("get", cmd_get, "print a field of a match")
    p.add_argument("--index", type=int, default=0, help="which match (default 0, -1 = last)")
    p.add_argument("--all", action="store_true", help="print the field of every match")
    p.add_argument("field")
    p = command("wait", cmd_wait, "wait for at least --count matches")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=10.0)
    command("dump", cmd_dump, "pretty-print matches")
    if not requests:
        command("tree", cmd_tree, "print traces as trees")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("file")
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub, requests=False)
    req = sub.add_parser("requests", help="queries over FILE.requests")
    add_commands(req.add_subparsers(dest="request_command", required=True), requests=True)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Failure as e:
        sys.stderr.write("spans.py: %s\n" % e)
        return 1
    except BrokenPipeError:
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
