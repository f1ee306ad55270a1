// The peer row of scripts/bench-cpu.bash: the official OpenTelemetry JS SDK
// set up as its documentation recommends for a production node service
// (NodeSDK, the HTTP instrumentation, a batch span processor, OTLP over
// HTTP/protobuf), loaded with `node --require` ahead of the unchanged
// program; the endpoint and the service name come from the standard OTEL_*
// variables, as for the shim. Installed from npm by the bench
// (scripts/bench-cpu.bash, cpu_sdk_install); not used by the tests.
'use strict';
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const sdk = new NodeSDK({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    instrumentations: [new HttpInstrumentation()],
});
sdk.start();
process.on('SIGTERM', () => {
    sdk.shutdown().finally(() => process.exit(0));
});
