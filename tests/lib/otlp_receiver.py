#!/usr/bin/env python3
"""Test OTLP/HTTP receiver: the collector every integration test talks to.

Standard library only. It decodes OTLP protobuf with its own wire-format
reader written from the opentelemetry-proto field numbers, independently of
proto/*.proto, so a wrong field number or type on the sending side shows up
as a decoding error (HTTP 400) or a wrong value in the output. OTLP/HTTP JSON
(Content-Type: application/json) is decoded with the json module into the
same records, strictly: hex ids, 64-bit integers as decimal strings, enums
as numbers, lowerCamelCase names only (anything else is a 400).

  otlp_receiver.py --port PORT --out SPANS_FILE [--mode MODE] [--mode-file F]
                   [--fail-count N] [--retry-after VALUE] [--ready-file F]

Output, appended and flushed before each answer:
  SPANS_FILE           one JSON object per accepted span
  SPANS_FILE.requests  one JSON object per HTTP request received
  SPANS_FILE.metrics   one JSON object per accepted metric data point
                       (POST /v1/metrics), see decode_metrics_request

Modes (--mode, or the first word of --mode-file, re-read on every request):
  ok       200, empty ExportTraceServiceResponse (JSON: {})
  partial  200 with partial_success (1 span rejected); spans are kept
  503/429  that status with Retry-After for the first --fail-count requests
           served in that mode, then as ok
  500      always 500
  hang     read the request, never answer (the connection stays open)
  close    read the request, close the connection without answering
  truncate read the request, answer a 200 head and half its body, then close
Spans are written only when the answer is a success.
"""

import argparse
import gzip
import json
import os
import signal
import struct
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------
# protobuf wire format

WT_VARINT, WT_I64, WT_LEN, WT_I32 = 0, 1, 2, 5


class DecodeError(ValueError):
    pass


def _varint(buf, pos):
    value = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint too long")


def fields(buf):
    """Yields (field_number, wire_type, value) for each field of a message:
    int for varint/fixed, bytes for length-delimited."""
    pos = 0
    end = len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos)
        field, wtype = tag >> 3, tag & 7
        if field == 0:
            raise DecodeError("field number 0")
        if wtype == WT_VARINT:
            value, pos = _varint(buf, pos)
        elif wtype == WT_I64:
            if pos + 8 > end:
                raise DecodeError("truncated fixed64")
            (value,) = struct.unpack_from("<Q", buf, pos)
            pos += 8
        elif wtype == WT_LEN:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise DecodeError("truncated length-delimited field %d" % field)
            value = bytes(buf[pos:pos + length])
            pos += length
        elif wtype == WT_I32:
            if pos + 4 > end:
                raise DecodeError("truncated fixed32")
            (value,) = struct.unpack_from("<I", buf, pos)
            pos += 4
        else:
            raise DecodeError("unsupported wire type %d (field %d)" % (wtype, field))
        yield field, wtype, value


def _expect(message, field, wtype, expected):
    if wtype != expected:
        raise DecodeError("%s field %d: wire type %d, expected %d" % (message, field, wtype, expected))


def _int64(u):
    return u - (1 << 64) if u >= (1 << 63) else u


def _text(message, field, raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        # proto3 strings must be UTF-8; the real collector rejects the request
        raise DecodeError("%s field %d: invalid UTF-8 (%s)" % (message, field, e)) from None


# AnyValue oneof: field -> expected wire type
_ANY_TYPES = {1: WT_LEN, 2: WT_VARINT, 3: WT_VARINT, 4: WT_I64, 5: WT_LEN, 6: WT_LEN, 7: WT_LEN}


def decode_any_value(buf):
    value = None
    for field, wtype, raw in fields(buf):
        if field not in _ANY_TYPES:
            continue
        _expect("AnyValue", field, wtype, _ANY_TYPES[field])
        if field == 1:
            value = _text("AnyValue", field, raw)
        elif field == 2:
            value = bool(raw)
        elif field == 3:
            value = _int64(raw)
        elif field == 4:
            (value,) = struct.unpack("<d", struct.pack("<Q", raw))
        elif field == 5:  # ArrayValue{1 repeated AnyValue}
            value = [decode_any_value(v) for f, t, v in fields(raw) if f == 1]
        elif field == 6:  # KeyValueList{1 repeated KeyValue}
            value = dict(decode_key_value(v) for f, t, v in fields(raw) if f == 1)
        elif field == 7:
            value = raw.hex()
    return value


def decode_key_value(buf):
    key, value = "", None
    for field, wtype, raw in fields(buf):
        if field == 1:
            _expect("KeyValue", field, wtype, WT_LEN)
            key = _text("KeyValue", field, raw)
        elif field == 2:
            _expect("KeyValue", field, wtype, WT_LEN)
            value = decode_any_value(raw)
    return key, value


def decode_attributes(raws):
    return dict(decode_key_value(raw) for raw in raws)


def decode_resource(buf):
    attrs = []
    for field, wtype, raw in fields(buf):
        if field == 1:
            _expect("Resource", field, wtype, WT_LEN)
            attrs.append(raw)
    return decode_attributes(attrs)


def decode_scope(buf):
    name, version = "", ""
    for field, wtype, raw in fields(buf):
        if field == 1:
            _expect("InstrumentationScope", field, wtype, WT_LEN)
            name = _text("InstrumentationScope", field, raw)
        elif field == 2:
            _expect("InstrumentationScope", field, wtype, WT_LEN)
            version = _text("InstrumentationScope", field, raw)
    return name, version


def decode_status(buf):
    code, message = 0, ""
    for field, wtype, raw in fields(buf):
        if field == 1:
            raise DecodeError("Status field 1 is reserved")
        if field == 2:
            _expect("Status", field, wtype, WT_LEN)
            message = _text("Status", field, raw)
        elif field == 3:
            _expect("Status", field, wtype, WT_VARINT)
            code = raw
    return code, message


def decode_event(buf):
    """Span.Event{1 time_unix_nano fixed64, 2 name, 3 repeated KeyValue,
    4 dropped_attributes_count} -> {"time", "name", "attributes"}."""
    event = {"time": 0, "name": "", "attributes": {}}
    attrs = []
    for field, wtype, raw in fields(buf):
        if field == 1:
            _expect("Event", field, wtype, WT_I64)
            event["time"] = raw
        elif field == 2:
            _expect("Event", field, wtype, WT_LEN)
            event["name"] = _text("Event", field, raw)
        elif field == 3:
            _expect("Event", field, wtype, WT_LEN)
            attrs.append(raw)
        elif field == 4:
            _expect("Event", field, wtype, WT_VARINT)
    event["attributes"] = decode_attributes(attrs)
    return event


# Span field -> expected wire type (opentelemetry/proto/trace/v1/trace.proto)
_SPAN_TYPES = {
    1: WT_LEN, 2: WT_LEN, 3: WT_LEN, 4: WT_LEN, 5: WT_LEN, 6: WT_VARINT,
    7: WT_I64, 8: WT_I64, 9: WT_LEN, 10: WT_VARINT, 11: WT_LEN, 12: WT_VARINT,
    13: WT_LEN, 14: WT_VARINT, 15: WT_LEN, 16: WT_I32,
}


def decode_span(buf):
    span = {
        "trace_id": "", "span_id": "", "parent_span_id": "", "trace_state": "",
        "flags": 0, "name": "", "kind": 0, "start": 0, "end": 0,
        "status_code": 0, "status_message": "", "attributes": {},
        "dropped_attributes": 0, "events": 0, "links": 0, "event_list": [],
    }
    attrs = []
    for field, wtype, raw in fields(buf):
        if field not in _SPAN_TYPES:
            continue
        _expect("Span", field, wtype, _SPAN_TYPES[field])
        if field == 1:
            if len(raw) != 16:
                raise DecodeError("trace_id has %d bytes" % len(raw))
            span["trace_id"] = raw.hex()
        elif field == 2:
            if len(raw) != 8:
                raise DecodeError("span_id has %d bytes" % len(raw))
            span["span_id"] = raw.hex()
        elif field == 3:
            span["trace_state"] = _text("Span", field, raw)
        elif field == 4:
            if len(raw) not in (0, 8):
                raise DecodeError("parent_span_id has %d bytes" % len(raw))
            span["parent_span_id"] = raw.hex()
        elif field == 5:
            span["name"] = _text("Span", field, raw)
        elif field == 6:
            span["kind"] = raw
        elif field == 7:
            span["start"] = raw
        elif field == 8:
            span["end"] = raw
        elif field == 9:
            attrs.append(raw)
        elif field == 10:
            span["dropped_attributes"] = raw
        elif field == 11:
            span["events"] += 1
            span["event_list"].append(decode_event(raw))
        elif field == 13:
            span["links"] += 1
        elif field == 15:
            span["status_code"], span["status_message"] = decode_status(raw)
        elif field == 16:
            span["flags"] = raw
    span["attributes"] = decode_attributes(attrs)
    return span


def resource_groups(buf, request_name, group_name):
    """Export*ServiceRequest{1 repeated Resource<Signal>{1 Resource, 2 repeated
    Scope<Signal>}} -> (resource attributes, [raw Scope<Signal>]) per group."""
    for field, wtype, group_raw in fields(buf):
        if field != 1:
            continue
        _expect(request_name, field, wtype, WT_LEN)
        resource = {}
        scopes = []
        for f, t, raw in fields(group_raw):
            if f == 1:
                _expect(group_name, f, t, WT_LEN)
                resource = decode_resource(raw)
            elif f == 2:
                _expect(group_name, f, t, WT_LEN)
                scopes.append(raw)
        yield resource, scopes


def decode_trace_request(buf):
    """ExportTraceServiceRequest -> list of span dicts in the output format."""
    out = []
    for resource, scope_spans in resource_groups(buf, "ExportTraceServiceRequest", "ResourceSpans"):
        for ss_raw in scope_spans:
            scope, scope_version = "", ""
            spans = []
            for f, t, raw in fields(ss_raw):
                if f == 1:
                    _expect("ScopeSpans", f, t, WT_LEN)
                    scope, scope_version = decode_scope(raw)
                elif f == 2:
                    _expect("ScopeSpans", f, t, WT_LEN)
                    spans.append(raw)
            for sp_raw in spans:
                span = decode_span(sp_raw)
                record = {
                    "service": resource.get("service.name", ""),
                    "resource": resource,
                    "scope": scope,
                    "scope_version": scope_version,
                }
                record.update(span)
                out.append(record)
    return out


def _double(raw):
    return struct.unpack("<d", struct.pack("<Q", raw))[0]


def _repeated_fixed64(wtype, raw, message, field):
    """Packed (one length-delimited run) or unpacked (one fixed64 each)."""
    if wtype == WT_I64:
        return [raw]
    _expect(message, field, wtype, WT_LEN)
    if len(raw) % 8:
        raise DecodeError("%s field %d: packed fixed64 of %d bytes" % (message, field, len(raw)))
    return list(struct.unpack("<%dQ" % (len(raw) // 8), raw))


# NumberDataPoint / HistogramDataPoint field -> wire type (metrics/v1/metrics.proto)
_NUMBER_POINT_TYPES = {7: WT_LEN, 2: WT_I64, 3: WT_I64, 4: WT_I64, 5: WT_LEN, 6: WT_I64, 8: WT_VARINT}
_HISTOGRAM_POINT_TYPES = {9: WT_LEN, 2: WT_I64, 3: WT_I64, 4: WT_I64, 5: WT_I64, 8: WT_LEN,
                          10: WT_VARINT, 11: WT_I64, 12: WT_I64}


def _point_common(point, attrs, attributes_field, field, raw):
    """The fields every data point has: attributes (number differs by
    type), 2 start_time_unix_nano, 3 time_unix_nano. True if handled."""
    if field == attributes_field:
        attrs.append(raw)
    elif field == 2:
        point["start"] = raw
    elif field == 3:
        point["time"] = raw
    else:
        return False
    return True


def decode_number_point(buf):
    point = {"attributes": {}, "start": 0, "time": 0, "value": None}
    attrs = []
    for field, wtype, raw in fields(buf):
        if field not in _NUMBER_POINT_TYPES:
            continue
        _expect("NumberDataPoint", field, wtype, _NUMBER_POINT_TYPES[field])
        if _point_common(point, attrs, 7, field, raw):
            continue
        if field == 4:
            point["value"] = _double(raw)
        elif field == 6:
            point["value"] = _int64(raw)
    point["attributes"] = decode_attributes(attrs)
    return point


def decode_histogram_point(buf):
    point = {"attributes": {}, "start": 0, "time": 0, "count": 0, "sum": None, "min": None,
             "max": None, "bucket_counts": [], "explicit_bounds": []}
    attrs = []
    for field, wtype, raw in fields(buf):
        if field == 6:
            point["bucket_counts"] += _repeated_fixed64(wtype, raw, "HistogramDataPoint", field)
            continue
        if field == 7:
            point["explicit_bounds"] += [_double(v) for v in
                                         _repeated_fixed64(wtype, raw, "HistogramDataPoint", field)]
            continue
        if field not in _HISTOGRAM_POINT_TYPES:
            continue
        _expect("HistogramDataPoint", field, wtype, _HISTOGRAM_POINT_TYPES[field])
        if _point_common(point, attrs, 9, field, raw):
            continue
        if field == 4:
            point["count"] = raw
        elif field == 5:
            point["sum"] = _double(raw)
        elif field == 11:
            point["min"] = _double(raw)
        elif field == 12:
            point["max"] = _double(raw)
    point["attributes"] = decode_attributes(attrs)
    if point["bucket_counts"] and len(point["bucket_counts"]) != len(point["explicit_bounds"]) + 1:
        raise DecodeError("histogram point: %d bucket counts for %d bounds" % (
            len(point["bucket_counts"]), len(point["explicit_bounds"])))
    if sum(point["bucket_counts"]) != point["count"]:
        raise DecodeError("histogram point: buckets sum to %d, count is %d" % (
            sum(point["bucket_counts"]), point["count"]))
    return point


# Metric oneof data: field -> (type name, point decoder)
_METRIC_DATA = {5: ("gauge", decode_number_point), 7: ("sum", decode_number_point),
                9: ("histogram", decode_histogram_point)}


def decode_metric(buf):
    """Metric -> list of point dicts, each carrying the metric's fields."""
    metric = {"name": "", "description": "", "unit": "", "type": None, "temporality": 0,
              "monotonic": False}
    points = []
    for field, wtype, raw in fields(buf):
        if field in (1, 2, 3):
            _expect("Metric", field, wtype, WT_LEN)
            metric[{1: "name", 2: "description", 3: "unit"}[field]] = _text("Metric", field, raw)
        elif field in _METRIC_DATA:
            _expect("Metric", field, wtype, WT_LEN)
            if metric["type"] is not None:
                raise DecodeError("Metric %r has two data fields" % metric["name"])
            metric["type"], decode_point = _METRIC_DATA[field]
            for f, t, v in fields(raw):
                if f == 1:
                    _expect(metric["type"], f, t, WT_LEN)
                    points.append(decode_point(v))
                elif f == 2:
                    _expect(metric["type"], f, t, WT_VARINT)
                    metric["temporality"] = v
                elif f == 3:
                    _expect(metric["type"], f, t, WT_VARINT)
                    metric["monotonic"] = bool(v)
        elif field in (10, 11):
            raise DecodeError("Metric %r: unexpected data field %d" % (metric["name"], field))
    out = []
    for point in points:
        record = dict(metric)
        record.update(point)
        out.append(record)
    return out


def decode_metrics_request(buf):
    """ExportMetricsServiceRequest -> one dict per data point: service,
    resource, scope, name, description, unit, type (gauge|sum|histogram),
    temporality (1 delta, 2 cumulative), monotonic, attributes, start, time,
    then value (gauge, sum) or count, sum, min, max, bucket_counts,
    explicit_bounds (histogram)."""
    out = []
    for resource, scope_metrics in resource_groups(buf, "ExportMetricsServiceRequest", "ResourceMetrics"):
        for sm_raw in scope_metrics:
            scope = ""
            for f, t, raw in fields(sm_raw):
                if f == 1:
                    _expect("ScopeMetrics", f, t, WT_LEN)
                    scope, _ = decode_scope(raw)
                elif f == 2:
                    _expect("ScopeMetrics", f, t, WT_LEN)
                    for point in decode_metric(raw):
                        record = {"service": resource.get("service.name", ""), "resource": resource,
                                  "scope": scope}
                        record.update(point)
                        out.append(record)
    return out


# ---------------------------------------------------------------------------
# OTLP/HTTP JSON: the protobuf JSON mapping with OTLP's exceptions


def _json_check_names(value, where="request"):
    """Every object key is a lowerCamelCase field name (attribute keys are
    values of "key", never object keys)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if "_" in k or not k[:1].islower():
                raise DecodeError("%s: field name %r is not lowerCamelCase" % (where, k))
            _json_check_names(v, k)
    elif isinstance(value, list):
        for v in value:
            _json_check_names(v, where)


def _json_int64(value, what, signed=True):
    """64-bit integers travel as decimal strings."""
    if not isinstance(value, str):
        raise DecodeError("%s: 64-bit integer %r is not a decimal string" % (what, value))
    text = value[1:] if signed and value.startswith("-") else value
    if not text.isdigit():
        raise DecodeError("%s: %r is not a decimal integer" % (what, value))
    return int(value)


def _json_enum(value, what):
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError("%s: enum %r is not a number" % (what, value))
    return value


def _json_double(value, what):
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise DecodeError("%s: %r is not a number" % (what, value))
    return float(value)


def _json_hex_id(value, nbytes, what, allow_empty=False):
    if allow_empty and value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) != 2 * nbytes or \
            any(c not in "0123456789abcdef" for c in value):
        raise DecodeError("%s: %r is not %d bytes of lower-case hex" % (what, value, nbytes))
    return value


def _json_any_value(v):
    if not isinstance(v, dict) or len(v) > 1:
        raise DecodeError("AnyValue %r: one member expected" % (v,))
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        return _json_int64(v["intValue"], "intValue")
    if "doubleValue" in v:
        return _json_double(v["doubleValue"], "doubleValue")
    if "arrayValue" in v:
        return [_json_any_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return _json_attributes(v["kvlistValue"].get("values", []))
    if "bytesValue" in v:
        import base64
        return base64.b64decode(v["bytesValue"]).hex()
    return None


def _json_attributes(kvs):
    return {kv.get("key", ""): _json_any_value(kv.get("value", {})) for kv in kvs}


def _json_groups(obj, list_name, scope_list_name):
    """(resource attributes, scope name, scope version, scope object) for
    each scope of each resource."""
    for group in obj.get(list_name, []):
        resource = _json_attributes(group.get("resource", {}).get("attributes", []))
        for scoped in group.get(scope_list_name, []):
            scope = scoped.get("scope", {})
            yield resource, scope.get("name", ""), scope.get("version", ""), scoped


def decode_trace_json(obj):
    """ExportTraceServiceRequest (JSON) -> the span dicts decode_trace_request gives."""
    _json_check_names(obj)
    out = []
    for resource, scope, scope_version, scoped in _json_groups(obj, "resourceSpans", "scopeSpans"):
        for sp in scoped.get("spans", []):
            status = sp.get("status", {})
            record = {
                "service": resource.get("service.name", ""),
                "resource": resource,
                "scope": scope,
                "scope_version": scope_version,
                "trace_id": _json_hex_id(sp.get("traceId"), 16, "traceId"),
                "span_id": _json_hex_id(sp.get("spanId"), 8, "spanId"),
                "parent_span_id": _json_hex_id(sp.get("parentSpanId"), 8, "parentSpanId", True),
                "trace_state": sp.get("traceState", ""),
                "flags": sp.get("flags", 0),
                "name": sp.get("name", ""),
                "kind": _json_enum(sp.get("kind", 0), "kind"),
                "start": _json_int64(sp.get("startTimeUnixNano", "0"), "startTimeUnixNano", False),
                "end": _json_int64(sp.get("endTimeUnixNano", "0"), "endTimeUnixNano", False),
                "status_code": _json_enum(status.get("code", 0), "status.code"),
                "status_message": status.get("message", ""),
                "attributes": _json_attributes(sp.get("attributes", [])),
                "dropped_attributes": sp.get("droppedAttributesCount", 0),
                "events": len(sp.get("events", [])),
                "event_list": [{"time": _json_int64(e.get("timeUnixNano", "0"), "timeUnixNano", False),
                                "name": e.get("name", ""),
                                "attributes": _json_attributes(e.get("attributes", []))}
                               for e in sp.get("events", [])],
                "links": len(sp.get("links", [])),
            }
            out.append(record)
    return out


def _json_point(p, metric_type):
    point = {
        "attributes": _json_attributes(p.get("attributes", [])),
        "start": _json_int64(p.get("startTimeUnixNano", "0"), "startTimeUnixNano", False),
        "time": _json_int64(p.get("timeUnixNano", "0"), "timeUnixNano", False),
    }
    if metric_type != "histogram":
        if "asInt" in p:
            point["value"] = _json_int64(p["asInt"], "asInt")
        elif "asDouble" in p:
            point["value"] = _json_double(p["asDouble"], "asDouble")
        else:
            point["value"] = None
        return point
    point["count"] = _json_int64(p.get("count", "0"), "count", False)
    point["sum"] = _json_double(p["sum"], "sum") if "sum" in p else None
    point["min"] = _json_double(p["min"], "min") if "min" in p else None
    point["max"] = _json_double(p["max"], "max") if "max" in p else None
    point["bucket_counts"] = [_json_int64(c, "bucketCounts", False) for c in p.get("bucketCounts", [])]
    point["explicit_bounds"] = [_json_double(b, "explicitBounds") for b in p.get("explicitBounds", [])]
    if point["bucket_counts"] and len(point["bucket_counts"]) != len(point["explicit_bounds"]) + 1:
        raise DecodeError("histogram point: %d bucket counts for %d bounds" % (
            len(point["bucket_counts"]), len(point["explicit_bounds"])))
    if sum(point["bucket_counts"]) != point["count"]:
        raise DecodeError("histogram point: buckets sum to %d, count is %d" % (
            sum(point["bucket_counts"]), point["count"]))
    return point


def decode_metrics_json(obj):
    """ExportMetricsServiceRequest (JSON) -> the point dicts decode_metrics_request gives."""
    _json_check_names(obj)
    out = []
    for resource, scope, _, scoped in _json_groups(obj, "resourceMetrics", "scopeMetrics"):
        for m in scoped.get("metrics", []):
            types = [t for t in ("gauge", "sum", "histogram") if t in m]
            if len(types) != 1 or any(t in m for t in ("exponentialHistogram", "summary")):
                raise DecodeError("Metric %r: one data field expected" % m.get("name"))
            data = m[types[0]]
            metric = {"name": m.get("name", ""), "description": m.get("description", ""),
                      "unit": m.get("unit", ""), "type": types[0],
                      "temporality": _json_enum(data.get("aggregationTemporality", 0), "aggregationTemporality"),
                      "monotonic": bool(data.get("isMonotonic", False))}
            for p in data.get("dataPoints", []):
                record = {"service": resource.get("service.name", ""), "resource": resource, "scope": scope}
                record.update(metric)
                record.update(_json_point(p, types[0]))
                out.append(record)
    return out


def _json_body(body):
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise DecodeError("invalid JSON: %s" % e) from None
    if not isinstance(obj, dict):
        raise DecodeError("the request is not a JSON object")
    return obj


def encode_varint(v):
    """A non-negative integer as a protobuf varint."""
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def partial_success_response(rejected, message):
    """ExportTraceServiceResponse{1: ExportTracePartialSuccess{1 int64, 2 string}}"""
    varint = encode_varint
    msg = message.encode()
    inner = b"\x08" + varint(rejected) + b"\x12" + varint(len(msg)) + msg
    return b"\x0a" + varint(len(inner)) + inner


# ---------------------------------------------------------------------------
# HTTP server

MODES = ("ok", "partial", "503", "429", "500", "hang", "close", "truncate")


class Receiver:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.failures_served = {}
        self.stopping = threading.Event()
        self.spans_file = open(args.out, "a", encoding="utf-8")
        self.requests_file = open(args.out + ".requests", "a", encoding="utf-8")
        self.metrics_file = open(args.out + ".metrics", "a", encoding="utf-8")

    def current_mode(self):
        mode = self.args.mode
        if self.args.mode_file:
            try:
                with open(self.args.mode_file, encoding="utf-8") as f:
                    words = f.read().split()
                if words:
                    mode = words[0]
            except FileNotFoundError:
                pass
        if mode not in MODES:
            sys.stderr.write("otlp_receiver: unknown mode %r, using ok\n" % mode)
            mode = "ok"
        return mode

    def take_failure(self, mode):
        """True if this request in a 503/429 mode must still fail."""
        with self.lock:
            served = self.failures_served.get(mode, 0)
            if served >= self.args.fail_count:
                return False
            self.failures_served[mode] = served + 1
            return True

    def record(self, request, spans, points=()):
        with self.lock:
            for span in spans:
                self.spans_file.write(json.dumps(span, sort_keys=True) + "\n")
            self.spans_file.flush()
            for point in points:
                self.metrics_file.write(json.dumps(point, sort_keys=True) + "\n")
            self.metrics_file.flush()
            self.requests_file.write(json.dumps(request, sort_keys=True) + "\n")
            self.requests_file.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlp-test-receiver/1"

    def log_message(self, fmt, *args):
        if self.server.receiver.args.verbose:
            sys.stderr.write("otlp_receiver: " + fmt % args + "\n")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _is_json(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/json"

    def _answer(self, status, body=b"", extra=None):
        self.send_response(status)
        # the answer comes in the request's encoding
        self.send_header("Content-Type", "application/json" if self._is_json() else "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self):
        receiver = self.server.receiver
        raw = self._read_body()
        encoding = self.headers.get("Content-Encoding", "")
        request = {
            "path": self.path,
            "content_type": self.headers.get("Content-Type", ""),
            "content_encoding": encoding,
            "bytes": len(raw),
            "spans": 0,
            "headers": {},
            # the client's port tells connections apart (keep-alive checks)
            "client_port": self.client_address[1],
        }
        for name, value in self.headers.items():
            key = name.lower()
            if key in request["headers"]:
                request["headers"][key] += ", " + value
            else:
                request["headers"][key] = value

        spans = []
        points = []
        error = None
        try:
            body = raw
            if encoding.lower() == "gzip":
                body = gzip.decompress(raw)
            elif encoding.lower() == "deflate":
                body = zlib.decompress(raw)
            elif encoding:
                raise DecodeError("unsupported Content-Encoding %r" % encoding)
            content_type = request["content_type"].split(";")[0].strip().lower()
            if self.path in ("/v1/traces", "/v1/metrics") and \
                    content_type not in ("application/x-protobuf", "application/json"):
                raise DecodeError("unsupported Content-Type %r" % request["content_type"])
            json_body = content_type == "application/json"
            if self.path == "/v1/traces":
                spans = decode_trace_json(_json_body(body)) if json_body else decode_trace_request(body)
            elif self.path == "/v1/metrics":
                points = decode_metrics_json(_json_body(body)) if json_body else decode_metrics_request(body)
            else:
                error = (404, "no such path")
        except (DecodeError, OSError, EOFError, zlib.error) as e:
            error = (400, str(e))
        request["spans"] = len(spans)
        request["points"] = len(points)

        mode = receiver.current_mode()
        request["mode"] = mode
        if error:
            request["status"] = error[0]
            request["error"] = error[1]
            receiver.record(request, [])
            sys.stderr.write("otlp_receiver: %s %s: %s\n" % (self.path, error[0], error[1]))
            self._answer(error[0], error[1].encode())
            return

        if mode == "hang":
            request["status"] = None
            receiver.record(request, [])
            receiver.stopping.wait()
            self.close_connection = True
            return
        if mode == "close":
            request["status"] = None
            receiver.record(request, [])
            self.close_connection = True
            return
        if mode == "truncate":
            # a 200 head promising a body, half of it, then the connection ends
            request["status"] = None
            receiver.record(request, [])
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                             b"Content-Length: 64\r\n\r\n" + b"\0" * 32)
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "500":
            request["status"] = 500
            receiver.record(request, [])
            self._answer(500, b"test receiver: 500 mode")
            return
        if mode in ("503", "429") and receiver.take_failure(mode):
            request["status"] = int(mode)
            receiver.record(request, [])
            extra = {}
            if receiver.args.retry_after != "none":
                extra["Retry-After"] = receiver.args.retry_after
            self._answer(int(mode), b"", extra)
            return

        request["status"] = 200
        receiver.record(request, spans, points)
        if mode == "partial":
            if self._is_json():
                self._answer(200, json.dumps({"partialSuccess": {
                    "rejectedSpans" if self.path == "/v1/traces" else "rejectedDataPoints": "1",
                    "errorMessage": "test receiver rejected one span"}}).encode())
            else:
                self._answer(200, partial_success_response(1, "test receiver rejected one span"))
        else:
            self._answer(200, b"{}" if self._is_json() else b"")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def write_ready_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=4318, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--out", required=True, help="spans file (JSON lines)")
    parser.add_argument("--mode", default="ok", choices=MODES)
    parser.add_argument("--mode-file", help="file whose first word overrides --mode, read per request")
    parser.add_argument("--fail-count", type=int, default=2, help="failures served in 503/429 modes")
    parser.add_argument("--retry-after", default="1",
                        help="Retry-After value in 503/429 modes ('none' to omit)")
    parser.add_argument("--ready-file", help="written with the port once listening")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)...")
    parser.add_argument("--tls-key", help="...and this key (PEM)")
    parser.add_argument("--tls-client-ca", help="require client certificates signed by this CA (PEM)")
    args = parser.parse_args()

    server = Server((args.host, args.port), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.tls_client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.receiver = Receiver(args)
    port = server.server_address[1]

    class Stop(Exception):
        pass

    def stop(signum, frame):
        # raised on the main thread, which only runs serve_forever (requests
        # have threads of their own): it leaves at once, where a shutdown()
        # would wait out the poll interval; the files close below, under
        # the lock their writers hold
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file:
        write_ready_file(args.ready_file, port)
    if args.verbose:
        sys.stderr.write("otlp_receiver: listening on %s:%d\n" % (args.host, port))
    try:
        server.serve_forever(poll_interval=0.2)
    except Stop:
        pass
    finally:
        server.receiver.stopping.set()
        server.server_close()
        with server.receiver.lock:
            server.receiver.spans_file.close()
            server.receiver.requests_file.close()
            server.receiver.metrics_file.close()


if __name__ == "__main__":
    main()
