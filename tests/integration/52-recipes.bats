#!/usr/bin/env bats
# docs/recipes: the files users copy (systemd, Docker, Kubernetes, compose
# with Grafana) name only what the product has: variables the shim reads,
# the installed paths, the metric and label names of its series after the
# Prometheus translation; their YAML/JSON parse and hang together
# (tests/lib/check_recipes.py). Each kind of mistake is also made on purpose
# in a copy, which the checker must refuse.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
    common_setup
    CHECK=$REPO_ROOT/tests/lib/check_recipes.py
    RECIPES=$REPO_ROOT/docs/recipes
}

teardown() {
    common_teardown
}

# A copy of the recipes in $T/tree/docs/recipes, for a test to break (at the
# same depth: the compose file builds from ../../.. with
# docs/recipes/docker/Dockerfile.snippet).
broken_copy() {
    rm -rf "$T/tree"
    mkdir -p "$T/tree/docs"
    cp -r "$RECIPES" "$T/tree/docs/recipes"
    BROKEN=$T/tree/docs/recipes
}

# The checker refuses the copy, with a line naming $1.
check_refuses() {
    run -1 /usr/bin/python3 "$CHECK" --repo "$REPO_ROOT" "$BROKEN"
    printf '%s\n' "$output"
    [[ $output == *"$1"* ]] || fail_now "no complaint about $1"
}

@test "recipes: every file is there" {
    local f
    for f in README.md systemd/otelauto.conf docker/Dockerfile.snippet \
        kubernetes/app.yaml kubernetes/collector-agent.yaml kubernetes/collector-gateway.yaml \
        compose/docker-compose.yaml compose/otel-collector.yaml compose/prometheus.yml \
        compose/grafana/provisioning/datasources/datasources.yaml \
        compose/grafana/provisioning/dashboards/otelauto.yaml \
        compose/grafana/dashboards/otelauto-red.json; do
        [[ -f $RECIPES/$f ]] || fail_now "docs/recipes/$f missing"
    done
}

@test "recipes: the checker accepts docs/recipes" {
    run /usr/bin/python3 "$CHECK" --repo "$REPO_ROOT" "$RECIPES"
    assert_ok
    # Not vacuous: it found the configs, manifests and queries it checks.
    [[ $output == *"1 collector configs (+2 in ConfigMaps), 1 compose file(s), 4 Kubernetes file(s), 1 dashboard(s)"* ]] ||
        fail_now "unexpected summary: $output"
}

@test "recipes: an unchanged copy passes, so each refusal below is its one fault's" {
    broken_copy
    run /usr/bin/python3 "$CHECK" --repo "$REPO_ROOT" "$BROKEN"
    assert_ok
}

@test "recipes: the dashboard queries the shim's histogram by its Prometheus names" {
    # The names the checker derives from src/metrics_table.c are the ones the
    # shim's own Prometheus endpoint writes (README, "Metrics").
    grep -q 'http_server_request_duration_seconds_bucket' "$REPO_ROOT/README.md"
    grep -q 'http_server_request_duration_seconds_bucket' "$RECIPES/compose/grafana/dashboards/otelauto-red.json"
    grep -q 'http_client_request_duration_seconds_count' "$RECIPES/compose/grafana/dashboards/otelauto-red.json"
    ! grep -q 'http_route' "$RECIPES/compose/grafana/dashboards/otelauto-red.json"
}

@test "recipes: a variable the shim does not read is refused" {
    broken_copy
    echo 'Environment=OTEL_BOGUS_VARIABLE=1' >>"$BROKEN/systemd/otelauto.conf"
    check_refuses "systemd/otelauto.conf:"
    check_refuses "OTEL_BOGUS_VARIABLE is not a variable otelauto reads"
}

@test "recipes: a dashboard query on a metric or label the shim does not emit is refused" {
    broken_copy
    local dash=$BROKEN/compose/grafana/dashboards/otelauto-red.json
    sed -i '0,/http_server_request_duration_seconds_count/s//http_server_requests_total/' "$dash"
    check_refuses "metric http_server_requests_total is not one the shim emits"
    broken_copy
    dash=$BROKEN/compose/grafana/dashboards/otelauto-red.json
    sed -i '0,/sum by (job) (rate/s//sum by (job, http_route) (rate/' "$dash"
    check_refuses "label http_route is on none of the shim's series"
    broken_copy
    dash=$BROKEN/compose/grafana/dashboards/otelauto-red.json
    sed -i '0,/"uid": "prometheus"/s//"uid": "mimir"/' "$dash"
    check_refuses "data source uid mimir is not provisioned"
}

@test "recipes: a path outside the installed layout is refused" {
    broken_copy
    sed -i 's|/usr/lib/otelauto/libotelauto-otlp.so|/usr/lib/otelauto/libotelauto_otlp.so|' "$BROKEN/kubernetes/app.yaml"
    check_refuses "/usr/lib/otelauto/libotelauto_otlp.so is not in the installed layout"
    broken_copy
    sed -i 's|/usr/bin/otelauto|/usr/sbin/otelauto|' "$BROKEN/docker/Dockerfile.snippet"
    check_refuses "/usr/sbin/otelauto is not in the installed layout"
}

@test "recipes: an OTLP endpoint on the gRPC port is refused" {
    broken_copy
    sed -i 's|http://localhost:4318|http://localhost:4317|' "$BROKEN/systemd/otelauto.conf"
    check_refuses "is the OTLP/gRPC port"
}

@test "recipes: YAML or JSON that does not parse is refused" {
    broken_copy
    printf 'scrape_configs:\n  - job_name: [unclosed\n' >>"$BROKEN/compose/prometheus.yml"
    check_refuses "compose/prometheus.yml: YAML does not parse"
    broken_copy
    sed -i '1s/^{/{,/' "$BROKEN/compose/grafana/dashboards/otelauto-red.json"
    check_refuses "otelauto-red.json: JSON does not parse"
}

@test "recipes: a Kubernetes \$(VAR) used before its definition is refused" {
    broken_copy
    # POD_NAME is then defined after OTEL_RESOURCE_ATTRIBUTES uses it: the
    # kubelet would leave "\$(POD_NAME)" in the value as it is.
    /usr/bin/python3 - "$BROKEN/kubernetes/app.yaml" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
block = """            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
"""
assert block in s
s = s.replace(block, "")
s = s.replace("""            - name: OTEL_METRIC_EXPORT_INTERVAL
              value: "15000"
""", """            - name: OTEL_METRIC_EXPORT_INTERVAL
              value: "15000"
""" + block)
open(p, "w").write(s)
EOF
    check_refuses "env OTEL_RESOURCE_ATTRIBUTES refers to \$(POD_NAME), which is not defined earlier"
}

@test "recipes: Kubernetes documents without a name, or with a dangling reference, are refused" {
    broken_copy
    sed -i '0,/^  name: otel-agent$/s//  labels: {}/' "$BROKEN/kubernetes/collector-agent.yaml"
    check_refuses "collector-agent.yaml (document 2): metadata.name missing"
    broken_copy
    # The Deployment's volume names a ConfigMap that is not there.
    sed -i 's/^            name: otel-gateway-config$/            name: otel-gateway-conf/' "$BROKEN/kubernetes/collector-gateway.yaml"
    check_refuses "ConfigMap observability/otel-gateway-conf is not defined"
    broken_copy
    sed -i 's/hostPort: 4318/hostPort: 14318/' "$BROKEN/kubernetes/collector-agent.yaml"
    check_refuses "no pod of these manifests has hostPort 4318"
}

@test "recipes: a Collector pipeline naming an undefined component is refused" {
    broken_copy
    sed -i 's/exporters: \[otlp\/jaeger\]/exporters: [otlp\/tempo]/' "$BROKEN/compose/otel-collector.yaml"
    check_refuses "pipeline traces: exporter otlp/tempo is not defined under exporters"
    broken_copy
    sed -i 's/          processors: \[memory_limiter, batch\]/          processors: [memory_limiter, batch, tail_sampling]/' \
        "$BROKEN/kubernetes/collector-agent.yaml"
    check_refuses "processor tail_sampling is not defined under processors"
    broken_copy
    sed -i 's/          exporters: \[otlp\/gateway\]/          exporters: [loadbalancing]/' "$BROKEN/kubernetes/collector-agent.yaml"
    check_refuses "loadbalancing with routing_key traceID only routes traces"
}

@test "recipes: a compose file mounting a missing file or naming an unknown host is refused" {
    broken_copy
    rm "$BROKEN/compose/nginx.conf"
    check_refuses "mounts ./nginx.conf, which does not exist"
    broken_copy
    sed -i 's|http://otel-collector:4318|http://collector:4318|' "$BROKEN/compose/docker-compose.yaml"
    check_refuses "names host collector, which is not a service"
    broken_copy
    sed -i 's|endpoint: jaeger:4317|endpoint: tempo:4317|' "$BROKEN/compose/otel-collector.yaml"
    check_refuses "endpoint host tempo is not a compose service"
}

@test "recipes: a compose demo without its traced program or its Grafana is refused" {
    broken_copy
    sed -i 's|^  LD_PRELOAD: .*|  LD_PRELOAD: ""|' "$BROKEN/compose/docker-compose.yaml"
    check_refuses "no service preloads libotelauto.so"
    broken_copy
    sed -i 's|image: grafana/grafana:|image: example/dashboards:|' "$BROKEN/compose/docker-compose.yaml"
    check_refuses "no service runs grafana"
}
