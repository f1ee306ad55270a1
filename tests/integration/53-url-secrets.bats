#!/usr/bin/env bats
# Secrets in URLs never reach the collector: the query keys the semantic
# conventions name, the AWS Signature Version 4 presigned-URL keys, and the
# keys a user adds with OTELAUTO_URL_SENSITIVE_QUERY_KEYS have their values
# replaced by REDACTED, in the server's url.query and the client's url.full;
# the request itself reaches the server unchanged.

load test_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'object\n' >"$T/www/object"
}

teardown() {
    common_teardown
}

QUERY='X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T000000Z&X-Amz-Expires=300&X-Amz-Security-Token=SessionSecret123&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcdSecretSig&token=UserToken456&page=2'

@test "AWS SigV4 presigned URL and a user-listed key: values redacted in url.query and url.full, nothing else changed" {
    EXTRA_ENV=(OTELAUTO_URL_SENSITIVE_QUERY_KEYS=token,api_key)
    start_http_server server py-server "$T/www"
    local port=$HTTP_SERVER_PORT
    run traced curl-client curl -sS "http://127.0.0.1:$port/object?$QUERY"
    assert_ok
    [ "$output" = object ]
    # the server got the request as the program sent it
    grep -q "GET /object?$QUERY HTTP" "$T/server.err"

    wait_spans 1 --service py-server --kind server
    wait_spans 1 --service curl-client --kind client
    local redacted='X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20261207T000000Z&X-Amz-Expires=300&X-Amz-Security-Token=REDACTED&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED&token=REDACTED&page=2'
    check_spans "
s = one(service='py-server', kind='server')
c = one(service='curl-client', kind='client')
expect_attrs(s, {'url.query': '$redacted'})
expect_attrs(c, {'url.full': 'http://127.0.0.1:$port/object?$redacted'})
"
    for secret in AKIAEXAMPLE SessionSecret123 0123abcdSecretSig UserToken456; do
        ! grep -q "$secret" "$SPANS"
    done
}

@test "without OTELAUTO_URL_SENSITIVE_QUERY_KEYS only the built-in keys are redacted" {
    start_http_server server py-server "$T/www"
    local port=$HTTP_SERVER_PORT
    run traced curl-client curl -sS -o /dev/null "http://127.0.0.1:$port/object?token=UserToken456&sig=abc"
    assert_ok
    wait_spans 1 --service py-server --kind server
    check_spans "
expect_attrs(one(service='py-server', kind='server'), {'url.query': 'token=UserToken456&sig=REDACTED'})
"
}
