// Package viewer is etlscope's local web UI: an HTTP API over one trace and
// the page that uses it (plain HTML, CSS and JavaScript embedded in the
// binary; no request leaves the machine).
//
// The server answers at once: an index of the trace is built in the
// background while the file streams by. The index keeps one checkpoint
// every few hundred events (where each CPU's buffer stream stood), so a
// page of rows anywhere in a 1 GB trace is re-read from the file on demand
// and memory stays flat. Filters run as background scans that keep only
// the indices of the matching events; the diagnosis runs once.
//
// Every request needs the access token printed with the URL; only GET and
// HEAD are served, with a Content-Security-Policy that allows nothing but
// the server itself.
package viewer
