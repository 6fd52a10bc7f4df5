// Package spectest validates HTTP responses against the Matrix spec's OpenAPI
// definitions (../shared/matrix-spec/data/api), for tests: it indexes every
// operation of the client-server API, finds the one a request matches, and
// checks the JSON body against the response schema of its status code, with
// $refs resolved across the spec's YAML files.
//
// Tests get a validator with Find, which skips validation (with a message)
// when the spec folder is absent, and can wrap an http.RoundTripper so every
// response a client library receives is checked.
package spectest
