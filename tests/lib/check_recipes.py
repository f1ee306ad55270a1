#!/usr/bin/python3
"""Checks the copy-paste recipes of docs/recipes against the product.

    check_recipes.py [--repo ROOT] [RECIPES_DIR]

ROOT is the source tree (default: two levels above this script), RECIPES_DIR
the recipes (default ROOT/docs/recipes). Prints one line per problem on
stderr and exits 1 if there is any; prints a summary and exits 0 otherwise.

What is checked:
- every .yaml/.yml parses (all documents), every .json parses;
- every OTEL_*/OTELAUTO_* variable named anywhere is one the shim reads (a
  complete name quoted in src/ or hooks/, or listed in README.md's
  "Configuration" section);
- every installed path (/usr/lib/otelauto/..., /usr/local/lib/otelauto/...,
  /usr/bin/otelauto) and every libotelauto*.so name is one of the layout;
- OTLP endpoints given to the shim are http(s) URLs and not the gRPC port;
- Collector configs (files and ConfigMap entries): pipelines name only
  defined components, loadbalancing exporters are complete;
- Kubernetes manifests: apiVersion/kind/metadata.name; $(VAR) references
  defined earlier in the container's env; volumes, ConfigMaps, selectors;
  the app's node-local endpoint is a hostPort of an agent whose config
  receives OTLP/HTTP there;
- docker compose: services, dependencies, mounted and built files exist,
  the hosts named by the apps, the Collector, Prometheus and Grafana are
  services, the apps' endpoint is the Collector's OTLP/HTTP receiver;
- Grafana dashboards: every PromQL query names only metrics and labels that
  the shim's metrics have after the Prometheus translation (from
  src/metrics/metrics_table.c and src/config/resource.c), data sources are provisioned;
- docs/recipes/README.md mentions every recipe.
"""
import json
import os
import re
import sys
from urllib.parse import urlsplit

import yaml

# The installed layout (Debian package: PREFIX=/usr; `make install`:
# PREFIX=/usr/local). The two libraries always sit in one directory:
# libotelauto.so loads libotelauto-otlp.so from its own directory.
LIB_FILES = {"libotelauto.so", "libotelauto-otlp.so"}
LAYOUT_DIRS = {"lib/otelauto", "share/doc/otelauto"}
LAYOUT_FILES = {"bin/otelauto"} | {"lib/otelauto/" + f for f in LIB_FILES}

errors = []


def err(where, msg):
    errors.append("%s: %s" % (where, msg))


# ---------------------------------------------------------------------------
# What the product really has


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def source_files(repo):
    for d in ("src", "hooks"):
        top = os.path.join(repo, d)
        for folder, dirs, names in sorted(os.walk(top)):
            dirs.sort()
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    yield os.path.join(folder, name)


def known_variables(repo):
    """Variables the shim reads: complete names quoted in the sources, plus
    README's configuration section, where `..._TRACES_HEADERS` stands for
    OTEL_EXPORTER_OTLP_TRACES_HEADERS."""
    names = set()
    for path in source_files(repo):
        names.update(re.findall(r'"((?:OTEL|OTELAUTO)_[A-Z0-9_]*[A-Z0-9])"', read(path)))
    readme = read(os.path.join(repo, "README.md"))
    m = re.search(r"^## Configuration\n(.*?)^## ", readme, re.S | re.M)
    if not m:
        err("README.md", 'no "## Configuration" section to read the variables from')
        return names
    for tok in re.findall(r"`([^`]+)`", m.group(1)):
        if re.fullmatch(r"(?:OTEL|OTELAUTO)_[A-Z0-9_]*[A-Z0-9]", tok):
            names.add(tok)
        elif re.fullmatch(r"\.\.\._[A-Z0-9_]*[A-Z0-9]", tok):
            names.add("OTEL_EXPORTER_OTLP" + tok[3:])
    return names


def prom_label(key):
    """An attribute key as a Prometheus label (the Collector's translation,
    and src/export/prometheus_exporter.c's): every other character becomes '_'."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


def metrics_sources(repo):
    """The files that define the shim's instruments: the metrics table (its
    exporter-health counters) and every protocol's metrics, where each
    protocol declares its instruments (struct oa_instrument_desc) and turns
    its keys into attributes. (path relative to repo, text) pairs."""
    paths = [os.path.join("src", "metrics", "metrics_table.c")]
    protocols = os.path.join(repo, "src", "protocols")
    for folder, _, files in sorted(os.walk(protocols)):
        for name in sorted(files):
            if name.endswith(".c"):
                path = os.path.relpath(os.path.join(folder, name), repo)
                text = read(os.path.join(repo, path))
                if "oa_instrument_desc" in text or "oa_metric_point_attr_" in text:
                    paths.append(path)
    return [(path, read(os.path.join(repo, path))) for path in paths]


def instrument_descriptors(text):
    """(name, unit, kind) of each instrument descriptor initialiser in text:
    from one .name = "..." to the next, a .kind = OA_INSTRUMENT_... and
    (optionally) a .unit = "..." (units such as "{request}" hold braces, so
    the initialiser's own braces cannot delimit it)."""
    found = []
    starts = [m.start() for m in re.finditer(r'\.name\s*=\s*"', text)] + [len(text)]
    for begin, end in zip(starts, starts[1:]):
        part = text[begin:end]
        name = re.match(r'\.name\s*=\s*"([^"]+)"', part)
        unit = re.search(r'\.unit\s*=\s*"([^"]*)"', part)
        kind = re.search(r"\.kind\s*=\s*(OA_INSTRUMENT_\w+)", part)
        if name and kind:
            found.append((name.group(1), unit.group(1) if unit else "", kind.group(1)))
    return found


def known_metrics(repo):
    """Prometheus series names of the shim's metrics, as the Collector's
    prometheus exporter (and the shim's own endpoint) name them: dots to
    underscores, unit "s" -> _seconds, annotations such as {request} dropped,
    monotonic counters _total, histograms _bucket/_sum/_count."""
    sources = metrics_sources(repo)
    series = {"target_info"}
    instruments = []
    health = []
    for path, text in sources:
        instruments += instrument_descriptors(text)
        health += re.findall(r'\[HEALTH_\w+\]\s*=\s*\{\s*"([^"]+)"', text)
    if not instruments:
        err("src/protocols", "no instrument descriptors (struct oa_instrument_desc) found (have the files changed shape?)")
    if not health:
        err("src/metrics/metrics_table.c", "health counter table not found (has the file changed shape?)")
    for name, unit, kind in instruments:
        base = prom_label(name)
        if unit == "s":
            base += "_seconds"
        elif unit and not unit.startswith("{") and unit != "1":
            base += "_" + prom_label(unit)
        if kind == "OA_INSTRUMENT_HISTOGRAM":
            series.update(base + s for s in ("_bucket", "_sum", "_count"))
        elif kind == "OA_INSTRUMENT_COUNTER":
            series.add(base + "_total")
        else:
            # Up-down counters (.monotonic = false): gauges.
            series.add(base)
    for name in health:
        # {span} counters, monotonic
        series.add(prom_label(name) + "_total")
    return series


def known_labels(repo, extra_resource_keys):
    """Labels a series of the shim can carry: its metric attributes, job and
    instance (service.name, service.instance.id), le, and, with the
    Collector's resource_to_telemetry_conversion, the resource attributes
    (the shim's own and those the recipes set in OTEL_RESOURCE_ATTRIBUTES)."""
    metrics_c = "".join(text for _, text in metrics_sources(repo))
    keys = set(re.findall(r'point_attr_(?:str|int)\(\s*p,\s*"([^"]+)"', metrics_c))
    keys.update(re.findall(r'"(otel\.metric\.overflow)"', metrics_c))
    if not keys:
        err("src/protocols", "no metric attribute keys found")
    resource_c = read(os.path.join(repo, "src", "config", "resource.c"))
    keys.update(re.findall(r'put_\w+\(\s*r,\s*"([a-z0-9_.]+)"', resource_c))
    keys.update(extra_resource_keys)
    return {prom_label(k) for k in keys} | {"job", "instance", "le"}


# ---------------------------------------------------------------------------
# Loading the recipes


def recipe_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.join(d, f))
    return out


def load_yaml_docs(path, rel):
    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        err(rel, "YAML does not parse: %s" % str(e).replace("\n", " "))
        return None


def load_json(path, rel):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as e:
        err(rel, "JSON does not parse: %s" % e)
        return None


# ---------------------------------------------------------------------------
# Text checks: variables, paths, endpoints


def check_text(rel, text, variables):
    for lineno, line in enumerate(text.splitlines(), 1):
        where = "%s:%d" % (rel, lineno)
        for name in re.findall(r"\b((?:OTEL|OTELAUTO)_[A-Z0-9_]*[A-Z0-9])\b", line):
            if name not in variables:
                err(where, "%s is not a variable otelauto reads (src/config/config.c, README.md)" % name)
        for prefix, rest in re.findall(
                r"(/usr/(?:local/)?)((?:lib|lib64|libexec|bin|sbin|share/doc|share/man/man[0-9])/otelauto[^\s\"'`,;:)\]}*]*)",
                line):
            rest = rest.rstrip(".")
            if rest.endswith("/"):
                ok = rest.rstrip("/") in LAYOUT_DIRS
            else:
                ok = rest in LAYOUT_FILES or rest in LAYOUT_DIRS
            if not ok:
                err(where, "%s%s is not in the installed layout (%s)" % (
                    prefix, rest, ", ".join("/usr/" + f for f in sorted(LAYOUT_FILES))))
        for lib in re.findall(r"\blibotelauto[A-Za-z0-9_.+-]*", line):
            lib = lib.rstrip(".")
            if lib not in LIB_FILES:
                err(where, "%s is not one of the libraries (%s)" % (lib, ", ".join(sorted(LIB_FILES))))
        for var, url in re.findall(
                r"\b(OTEL_EXPORTER_OTLP(?:_TRACES|_METRICS)?_ENDPOINT)[\"']?\s*[=:]\s*[\"']?([^\s\"']+)", line):
            check_endpoint(where, var, url)


def check_endpoint(where, var, url):
    """The recipes speak OTLP/HTTP (none sets ..._PROTOCOL=grpc): an http(s)
    URL, not the gRPC port."""
    if not re.match(r"https?://", url):
        err(where, "%s=%s is not an http:// or https:// URL" % (var, url))
        return
    port = endpoint_port(url)
    if port == 4317:
        err(where, "%s=%s is the OTLP/gRPC port; the recipes export OTLP/HTTP (4318)" % (var, url))


def endpoint_port(url):
    m = re.match(r"(https?)://(?:\[[^\]]*\]|[^/:]*)(?::(\d+))?", url)
    if not m:
        return None
    if m.group(2):
        return int(m.group(2))
    return 443 if m.group(1) == "https" else 80


def endpoint_host(url):
    if "://" not in url:
        url = "//" + url
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# Collector configurations

PIPELINE_TYPES = {"traces", "metrics", "logs"}


def is_collector_config(doc):
    return isinstance(doc, dict) and "service" in doc and "receivers" in doc and "exporters" in doc


def check_collector(where, cfg):
    service = cfg.get("service") or {}
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        err(where, "Collector config without service.pipelines")
    for section in ("receivers", "processors", "exporters", "extensions", "connectors"):
        if cfg.get(section) is not None and not isinstance(cfg.get(section), dict):
            err(where, "%s must be a mapping" % section)
    for ext in service.get("extensions") or []:
        if ext not in (cfg.get("extensions") or {}):
            err(where, "service.extensions names %s, not defined under extensions" % ext)
    for pname, p in pipelines.items():
        ptype = pname.split("/")[0]
        if ptype not in PIPELINE_TYPES:
            err(where, "pipeline %s: type %s is not traces, metrics or logs" % (pname, ptype))
        p = p or {}
        for kind in ("receivers", "exporters"):
            if not p.get(kind):
                err(where, "pipeline %s has no %s" % (pname, kind))
        connectors = cfg.get("connectors") or {}
        for kind in ("receivers", "processors", "exporters"):
            defined = cfg.get(kind) or {}
            for comp in p.get(kind) or []:
                if comp not in defined and not (kind != "processors" and comp in connectors):
                    err(where, "pipeline %s: %s %s is not defined under %s" % (pname, kind[:-1], comp, kind))
                if kind == "exporters" and comp.split("/")[0] == "loadbalancing":
                    lb = defined.get(comp) or {}
                    if lb.get("routing_key", "traceID") == "traceID" and ptype != "traces" and ptype != "logs":
                        err(where, "pipeline %s: loadbalancing with routing_key traceID only routes traces" % pname)
    for name, lb in (cfg.get("exporters") or {}).items():
        if name.split("/")[0] != "loadbalancing":
            continue
        lb = lb or {}
        if not isinstance((lb.get("protocol") or {}).get("otlp"), dict):
            err(where, "exporter %s: protocol.otlp missing" % name)
        resolver = lb.get("resolver") or {}
        if not any(k in resolver for k in ("dns", "static", "k8s", "aws_cloud_map")):
            err(where, "exporter %s: resolver.dns (or static, k8s) missing" % name)
        if "dns" in resolver and not (resolver["dns"] or {}).get("hostname"):
            err(where, "exporter %s: resolver.dns.hostname missing" % name)


def otlp_http_ports(cfg):
    """Ports on which a Collector config receives OTLP/HTTP."""
    ports = set()
    for name, r in (cfg.get("receivers") or {}).items():
        if name.split("/")[0] != "otlp":
            continue
        http = ((r or {}).get("protocols") or {})
        if "http" not in http:
            continue
        endpoint = (http.get("http") or {}).get("endpoint") or "localhost:4318"
        m = re.search(r":(\d+)$", str(endpoint))
        ports.add(int(m.group(1)) if m else 4318)
    return ports


def exporter_hosts(cfg):
    hosts = []
    for name, e in (cfg.get("exporters") or {}).items():
        e = e or {}
        url = e.get("endpoint")
        if url and name.split("/")[0] not in ("prometheus",):
            hosts.append((name, endpoint_host(str(url))))
    return hosts


# ---------------------------------------------------------------------------
# Kubernetes

WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}


def pod_spec(doc):
    if doc.get("kind") == "Pod":
        return doc.get("spec") or {}, (doc.get("metadata") or {}).get("labels") or {}
    if doc.get("kind") in WORKLOADS:
        tmpl = (doc.get("spec") or {}).get("template") or {}
        return tmpl.get("spec") or {}, (tmpl.get("metadata") or {}).get("labels") or {}
    return None, None


def env_refs(value):
    """$(VAR) references, not the $$(VAR) escape."""
    return re.findall(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value)


def check_kubernetes(docs_by_file, collector_checked):
    all_docs = [(rel, i, d) for rel, docs in docs_by_file for i, d in enumerate(docs)]
    configmaps = {}
    pod_labels = []
    for rel, i, d in all_docs:
        where = "%s (document %d)" % (rel, i + 1)
        if not isinstance(d, dict):
            err(where, "not a mapping")
            continue
        for key in ("apiVersion", "kind"):
            if not d.get(key):
                err(where, "%s missing" % key)
        name = (d.get("metadata") or {}).get("name")
        if not name:
            err(where, "metadata.name missing")
        ns = (d.get("metadata") or {}).get("namespace", "default")
        if d.get("kind") == "ConfigMap":
            configmaps[(ns, name)] = d
            for key, value in (d.get("data") or {}).items():
                if key.endswith((".yaml", ".yml")):
                    try:
                        inner = yaml.safe_load(value)
                    except yaml.YAMLError as e:
                        err("%s ConfigMap %s/%s" % (rel, name, key), "YAML does not parse: %s" % e)
                        continue
                    if is_collector_config(inner):
                        check_collector("%s ConfigMap %s key %s" % (rel, name, key), inner)
                        collector_checked.append((ns, name, key, inner))
        spec, labels = pod_spec(d)
        if spec is not None:
            pod_labels.append((ns, labels))
    app_endpoints = []  # (where, port) of endpoints at the node's IP
    agent_ports = {}  # hostPort -> the collector configs mounted by its pod
    for rel, i, d in all_docs:
        if not isinstance(d, dict):
            continue
        spec, labels = pod_spec(d)
        if spec is None:
            continue
        name = (d.get("metadata") or {}).get("name")
        ns = (d.get("metadata") or {}).get("namespace", "default")
        where = "%s %s/%s" % (rel, d.get("kind"), name)
        selector = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels")
        if d.get("kind") in WORKLOADS and d.get("kind") != "Job":
            if not selector:
                err(where, "spec.selector.matchLabels missing")
            elif any(labels.get(k) != v for k, v in selector.items()):
                err(where, "selector %s does not match the template's labels %s" % (selector, labels))
        volumes = {}
        for v in spec.get("volumes") or []:
            volumes[v.get("name")] = v
            cm = (v.get("configMap") or {}).get("name")
            if cm and (ns, cm) not in configmaps:
                err(where, "volume %s: ConfigMap %s/%s is not defined in these manifests" % (v.get("name"), ns, cm))
        mounted_configs = []
        for v in volumes.values():
            cm = (v.get("configMap") or {}).get("name")
            if cm and (ns, cm) in configmaps:
                mounted_configs.append(cm)
        containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
        if not spec.get("containers"):
            err(where, "no containers")
        for c in containers:
            cwhere = "%s container %s" % (where, c.get("name"))
            for key in ("name", "image"):
                if not c.get(key):
                    err(cwhere, "%s missing" % key)
            defined = []
            field_of = {}
            for e in c.get("env") or []:
                ename = e.get("name")
                value = e.get("value")
                if isinstance(value, str):
                    for ref in env_refs(value):
                        if ref not in defined:
                            err(cwhere, "env %s refers to $(%s), which is not defined earlier in this container's env"
                                % (ename, ref))
                fref = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
                if fref:
                    field_of[ename] = fref
                if ename in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                             "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") and isinstance(value, str):
                    check_endpoint(cwhere, ename, value)
                    m = re.match(r"https?://\$\(([A-Za-z_]\w*)\)(?::(\d+))?", value)
                    if m and field_of.get(m.group(1)) == "status.hostIP":
                        app_endpoints.append((cwhere, int(m.group(2) or 80)))
                defined.append(ename)
            for key in ("command", "args"):
                for arg in c.get(key) or []:
                    for ref in env_refs(str(arg)):
                        if ref not in defined:
                            err(cwhere, "%s refers to $(%s), not in this container's env" % (key, ref))
            for vm in c.get("volumeMounts") or []:
                if vm.get("name") not in volumes:
                    err(cwhere, "volumeMount %s names no volume of the pod" % vm.get("name"))
            for p in c.get("ports") or []:
                if p.get("hostPort"):
                    agent_ports.setdefault(int(p["hostPort"]), []).extend((ns, cm) for cm in mounted_configs)
    for rel, i, d in all_docs:
        if isinstance(d, dict) and d.get("kind") == "Service":
            sel = (d.get("spec") or {}).get("selector") or {}
            ns = (d.get("metadata") or {}).get("namespace", "default")
            if sel and not any(pns == ns and all(lab.get(k) == v for k, v in sel.items())
                               for pns, lab in pod_labels):
                err("%s Service %s" % (rel, (d.get("metadata") or {}).get("name")),
                    "selector %s matches no pod template of these manifests" % sel)
    for where, port in app_endpoints:
        configs = agent_ports.get(port)
        if not configs:
            err(where, "OTLP endpoint at the node's IP port %d: no pod of these manifests has hostPort %d" % (port, port))
            continue
        if not any(port in otlp_http_ports(cfg) for ns, name, key, cfg in collector_checked
                   if (ns, name) in configs):
            err(where, "the agent behind hostPort %d does not receive OTLP/HTTP on port %d" % (port, port))


# ---------------------------------------------------------------------------
# docker compose


def env_dict(env):
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    out = {}
    for item in env or []:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


def check_compose(rel, path, doc, collector_docs, yaml_docs):
    base = os.path.dirname(path)
    services = (doc or {}).get("services") or {}
    if not services:
        err(rel, "no services")
        return
    mounts = {}  # service -> {target: source path}, first: the apps name the Collector's
    for name, s in services.items():
        mounts[name] = {}
        for v in (s or {}).get("volumes") or []:
            if isinstance(v, dict):
                src, target = v.get("source", ""), v.get("target", "")
            else:
                parts = str(v).split(":")
                src, target = parts[0], parts[1] if len(parts) > 1 else ""
            if src.startswith((".", "/")):
                src_path = os.path.normpath(os.path.join(base, src))
                if not os.path.exists(src_path):
                    err("%s service %s" % (rel, name), "mounts %s, which does not exist next to the compose file" % src)
                mounts[name][target] = src_path
    for name, s in services.items():
        where = "%s service %s" % (rel, name)
        s = s or {}
        if not s.get("image") and not s.get("build"):
            err(where, "neither image nor build")
        deps = s.get("depends_on") or []
        for dep in (deps if isinstance(deps, list) else list(deps)):
            if dep not in services:
                err(where, "depends_on %s, which is not a service" % dep)
        build = s.get("build")
        if build:
            ctx = build if isinstance(build, str) else build.get("context", ".")
            ctx_path = os.path.normpath(os.path.join(base, ctx))
            if not os.path.isdir(ctx_path):
                err(where, "build context %s does not exist" % ctx)
            elif isinstance(build, dict) and build.get("dockerfile"):
                df = os.path.join(ctx_path, build["dockerfile"])
                if not os.path.isfile(df):
                    err(where, "dockerfile %s does not exist in the context" % build["dockerfile"])
                elif build.get("target") and not re.search(
                        r"^FROM\s+\S+\s+AS\s+%s\s*$" % re.escape(build["target"]), read(df), re.M | re.I):
                    err(where, "build target %s is no stage of %s" % (build["target"], build["dockerfile"]))
        for arg in (s.get("command") or []) if isinstance(s.get("command"), list) else []:
            m = re.match(r"--(?:config|config\.file)=(/\S+)$", str(arg))
            if m and not any(m.group(1) == t or m.group(1).startswith(t.rstrip("/") + "/")
                             for t in mounts[name]):
                err(where, "command reads %s, which no volume provides" % m.group(1))
        env = env_dict(s.get("environment"))
        for var, url in env.items():
            if re.fullmatch(r"OTEL_EXPORTER_OTLP(?:_TRACES|_METRICS)?_ENDPOINT", var):
                check_endpoint(where, var, url)
                host = endpoint_host(url)
                if host not in services:
                    err(where, "%s names host %s, which is not a service" % (var, host))
                    continue
                port = endpoint_port(url)
                target_cfgs = [collector_docs[p] for p in mounts.get(host, {}).values() if p in collector_docs]
                if not target_cfgs:
                    err(where, "%s points at %s, which mounts no Collector config of this folder" % (var, host))
                elif not any(port in otlp_http_ports(c) for c in target_cfgs):
                    err(where, "%s: the Collector %s does not receive OTLP/HTTP on port %s" % (var, host, port))
    # The demo's parts: a traced program, the Collector, Jaeger, Prometheus, Grafana.
    images = " ".join(str((s or {}).get("image", "")) for s in services.values())
    for part in ("opentelemetry-collector", "jaeger", "prometheus", "grafana"):
        if part not in images:
            err(rel, "no service runs %s" % part)
    if not any("libotelauto.so" in env_dict((s or {}).get("environment")).get("LD_PRELOAD", "")
               for s in services.values()):
        err(rel, "no service preloads libotelauto.so")
    # The mounted configuration files are consistent with the services.
    for name, m in mounts.items():
        for target, src in m.items():
            if src in collector_docs:
                for exp, host in exporter_hosts(collector_docs[src]):
                    if host and host not in services and host not in ("localhost", "0.0.0.0"):
                        err("%s (exporter %s)" % (os.path.relpath(src, base), exp),
                            "endpoint host %s is not a compose service" % host)
            elif os.path.basename(src).startswith("prometheus") and src.endswith((".yml", ".yaml")):
                prom = (yaml_docs.get(src) or [{}])[0]
                prom = prom if isinstance(prom, dict) else {}
                for job in prom.get("scrape_configs") or []:
                    for sc in job.get("static_configs") or []:
                        for t in sc.get("targets") or []:
                            if t.split(":")[0] not in services:
                                err(os.path.relpath(src, base), "scrape target %s is not a compose service" % t)
            elif os.path.isdir(src):
                for f in recipe_files(src):
                    if f.endswith((".yaml", ".yml")):
                        for d in yaml_docs.get(f) or []:
                            for ds in (d or {}).get("datasources") or [] if isinstance(d, dict) else []:
                                host = endpoint_host(str(ds.get("url", "")))
                                if host and host not in services:
                                    err(os.path.relpath(f, base),
                                        "data source %s: host %s is not a compose service" % (ds.get("name"), host))


# ---------------------------------------------------------------------------
# Grafana dashboards and PromQL

PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                   "group_left", "group_right", "inf", "nan", "atan2"}


def promql_names(expr):
    """(metric names, label names) used by a PromQL expression, Grafana's
    label_values(...) included."""
    metrics, labels = set(), set()
    m = re.fullmatch(r"\s*label_values\((.*?)(?:,\s*([A-Za-z_]\w*))?\s*\)\s*", expr, re.S)
    if m:
        if m.group(2):
            labels.add(m.group(2))
            expr = m.group(1)
        else:
            labels.add(m.group(1).strip())
            return metrics, labels
    for block in re.findall(r"\{([^}]*)\}", expr):
        block = re.sub(r'"(?:[^"\\]|\\.)*"', '""', block)
        labels.update(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", block))
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    for group in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        labels.update(x.strip() for x in group.split(",") if x.strip())
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)
    expr = re.sub(r"\$\{[^}]*\}|\$\w+", " ", expr)
    for ident in re.findall(r"(?<![\w.$])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()", expr):
        if ident.lower() not in PROMQL_KEYWORDS:
            metrics.add(ident)
    return metrics, labels


def dashboard_queries(dash):
    """(where, expr, datasource uid) of every panel target and query variable."""
    out = []

    def walk(panels):
        for p in panels or []:
            for t in p.get("targets") or []:
                ds = t.get("datasource") or p.get("datasource") or {}
                if t.get("expr"):
                    out.append(('panel "%s" target %s' % (p.get("title"), t.get("refId")), t["expr"],
                                ds.get("uid") if isinstance(ds, dict) else ds))
            walk(p.get("panels"))

    walk(dash.get("panels"))
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            ds = v.get("datasource") or {}
            if q:
                out.append(('variable "%s"' % v.get("name"), q, ds.get("uid") if isinstance(ds, dict) else ds))
    return out


def check_dashboard(rel, dash, metrics, labels, datasource_uids):
    queries = dashboard_queries(dash)
    if not queries:
        err(rel, "no PromQL query found")
    for where, expr, uid in queries:
        where = "%s %s" % (rel, where)
        if datasource_uids and uid and not uid.startswith("$") and uid not in datasource_uids:
            err(where, "data source uid %s is not provisioned (%s)" % (uid, ", ".join(sorted(datasource_uids))))
        used_metrics, used_labels = promql_names(expr)
        for name in sorted(used_metrics - metrics):
            err(where, "metric %s is not one the shim emits, after the Prometheus translation (%s)"
                % (name, ", ".join(sorted(metrics))))
        for name in sorted(used_labels - labels):
            err(where, "label %s is on none of the shim's series (%s)" % (name, ", ".join(sorted(labels))))


# ---------------------------------------------------------------------------


def main(argv):
    repo = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--repo":
        repo = os.path.abspath(args[1])
        args = args[2:]
    root = os.path.abspath(args[0]) if args else os.path.join(repo, "docs", "recipes")
    if not os.path.isdir(root):
        print("check_recipes: %s is not a directory" % root, file=sys.stderr)
        return 2

    variables = known_variables(repo)
    metrics = known_metrics(repo)
    files = recipe_files(root)
    rel = {f: os.path.relpath(f, root) for f in files}

    yaml_docs, json_docs = {}, {}
    resource_keys = set()
    for f in files:
        if f.endswith((".yaml", ".yml")):
            docs = load_yaml_docs(f, rel[f])
            if docs is not None:
                yaml_docs[f] = docs
        elif f.endswith(".json"):
            doc = load_json(f, rel[f])
            if doc is not None:
                json_docs[f] = doc
        try:
            text = read(f)
        except UnicodeDecodeError:
            text = None  # not text (an image): nothing to read in it
        if text is not None:
            check_text(rel[f], text, variables)
            for value in re.findall(r"OTEL_RESOURCE_ATTRIBUTES\W+([^\s\"']+)", text):
                resource_keys.update(k for k in re.findall(r"(?:^|,)([A-Za-z0-9_.]+)=", value))
    labels = known_labels(repo, resource_keys)

    collector_docs = {}
    for f, docs in yaml_docs.items():
        if len(docs) == 1 and is_collector_config(docs[0]):
            check_collector(rel[f], docs[0])
            collector_docs[f] = docs[0]

    k8s_files = [(rel[f], docs) for f, docs in sorted(yaml_docs.items())
                 if any(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in docs)
                 and not any(isinstance(d, dict) and d.get("datasources") is not None
                             or isinstance(d, dict) and d.get("providers") is not None for d in docs)]
    collector_in_k8s = []
    if k8s_files:
        check_kubernetes(k8s_files, collector_in_k8s)

    compose_files = [f for f in yaml_docs if os.path.basename(f) in
                     ("docker-compose.yaml", "docker-compose.yml", "compose.yaml", "compose.yml")]
    for f in compose_files:
        docs = yaml_docs[f]
        if len(docs) != 1:
            err(rel[f], "a compose file is one YAML document")
            continue
        check_compose(rel[f], f, docs[0], collector_docs, yaml_docs)

    datasource_uids = set()
    for f, docs in yaml_docs.items():
        for d in docs:
            if isinstance(d, dict):
                for ds in d.get("datasources") or []:
                    if ds.get("uid"):
                        datasource_uids.add(ds["uid"])
                for p in d.get("providers") or []:
                    if not (p.get("options") or {}).get("path"):
                        err(rel[f], "dashboard provider %s has no options.path" % p.get("name"))
    dashboards = [f for f, d in json_docs.items() if isinstance(d, dict) and "panels" in d]
    for f in dashboards:
        check_dashboard(rel[f], json_docs[f], metrics, labels, datasource_uids)

    readme = os.path.join(root, "README.md")
    if not os.path.isfile(readme):
        err(".", "README.md missing")
    else:
        text = read(readme)
        for f in files:
            r = rel[f]
            if r == "README.md":
                continue
            top = r.split(os.sep)[0]
            if r not in text and (top + "/") not in text:
                err("README.md", "does not mention %s" % r)

    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print("check_recipes: %d problem(s)" % len(errors), file=sys.stderr)
        return 1
    print("check_recipes: %d files, %d collector configs (+%d in ConfigMaps), %d compose file(s), "
          "%d Kubernetes file(s), %d dashboard(s) checked; %d variables, %d series names known"
          % (len(files), len(collector_docs), len(collector_in_k8s), len(compose_files), len(k8s_files),
             len(dashboards), len(variables), len(metrics)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
