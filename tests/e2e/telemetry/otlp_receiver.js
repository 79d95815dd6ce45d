'use strict';
// An independent OTLP/gRPC and OTLP/HTTP receiver for Lantern's end-to-end tests. It
// decodes requests with the code the OpenTelemetry project generated from its own .proto
// files (@opentelemetry/otlp-transformer's root.js), serves gRPC with @grpc/grpc-js, and
// answers each request as a scripted list of faults says (then OK).
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const path = require('path');
const zlib = require('zlib');

const NODE_MODULES = path.resolve(__dirname, '../../node_modules');
const grpc = require(path.join(NODE_MODULES, '@grpc/grpc-js'));
const protobuf = require(path.join(NODE_MODULES, 'protobufjs'));
const otlpRoot = require(path.join(
    NODE_MODULES, '@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const collector = otlpRoot.opentelemetry.proto.collector.trace.v1;

// google.rpc.Status and RetryInfo, built by protobufjs reflection, for error details.
const rpcRoot = protobuf.Root.fromJSON({nested: {google: {nested: {
  protobuf: {nested: {
    Any: {fields: {type_url: {type: 'string', id: 1}, value: {type: 'bytes', id: 2}}},
    Duration: {fields: {seconds: {type: 'int64', id: 1}, nanos: {type: 'int32', id: 2}}},
  }},
  rpc: {nested: {
    Status: {fields: {code: {type: 'int32', id: 1}, message: {type: 'string', id: 2},
                      details: {rule: 'repeated', type: 'google.protobuf.Any', id: 3}}},
    RetryInfo: {fields: {retry_delay: {type: 'google.protobuf.Duration', id: 1}}},
  }},
}}}});
const RpcStatus = rpcRoot.lookupType('google.rpc.Status');
const RetryInfo = rpcRoot.lookupType('google.rpc.RetryInfo');

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

// grpc-js hides the grpc-encoding header from handlers; watch the HTTP/2 servers it
// creates to see which compression each call used.
const http2 = require('http2');
const grpcEncodings = [];
for (const name of ['createServer', 'createSecureServer']) {
  const original = http2[name];
  http2[name] = (...args) => {
    const server = original(...args);
    server.on('stream', (stream, headers) => grpcEncodings.push(headers['grpc-encoding']));
    return server;
  };
}

// OTLP/JSON -> message: ids are hex in OTLP/JSON but base64 in protobuf's JSON mapping,
// which is what fromObject implements.
function fromOtlpJson(object) {
  const convert = (value) => {
    if (Array.isArray(value)) return value.map(convert);
    if (value === null || typeof value !== 'object') return value;
    const out = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = ID_KEYS.has(key) && typeof v === 'string' ?
          Buffer.from(v, 'hex').toString('base64') : convert(v);
    }
    return out;
  };
  return collector.ExportTraceServiceRequest.fromObject(convert(object));
}

// Violations of the OTLP/JSON encoding rules in a raw request object.
function otlpJsonViolations(object) {
  const problems = [];
  const walk = (value, where) => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${where}[${i}]`));
    if (value === null || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value)) {
      const at = `${where}.${key}`;
      if (!/^[a-z][a-zA-Z]*$/.test(key)) problems.push(`${at}: key is not lowerCamelCase`);
      if (key === 'traceId' && !/^[0-9a-f]{32}$/.test(v)) problems.push(`${at}: not 32 hex`);
      if ((key === 'spanId' || key === 'parentSpanId') && !/^[0-9a-f]{16}$/.test(v)) {
        problems.push(`${at}: not 16 hex`);
      }
      if (['intValue', 'startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano'].includes(key) &&
          !(typeof v === 'string' && /^-?[0-9]+$/.test(v))) {
        problems.push(`${at}: 64-bit integer not written as a decimal string`);
      }
      if ((key === 'kind' || key === 'code') && typeof v !== 'number') {
        problems.push(`${at}: enum not written as an integer`);
      }
      walk(v, at);
    }
  };
  walk(object, '$');
  return problems;
}

// Span.flags (field 16) and Span.Link.flags (field 6) are newer than the generated
// decoders, so they are read from the wire with protobufjs's Reader.
function wireFlags(buffer) {
  const flags = {};
  const fields = (buf, onField) => {
    const reader = protobuf.Reader.create(buf);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (!onField(tag >>> 3, tag & 7, reader)) reader.skipType(tag & 7);
    }
  };
  const bytesField = (want, fn) => (field, wireType, reader) => {
    if (field !== want || wireType !== 2) return false;
    fn(reader.bytes());
    return true;
  };
  fields(buffer, bytesField(1, (rs) => fields(rs, bytesField(2, (ss) => fields(ss,
      bytesField(2, (spanBytes) => {
        const span = {flags: 0, links: []};
        let spanId = '';
        fields(spanBytes, (field, wireType, reader) => {
          if (field === 2 && wireType === 2) spanId = Buffer.from(reader.bytes()).toString('hex');
          else if (field === 16 && wireType === 5) span.flags = reader.fixed32();
          else if (field === 13 && wireType === 2) {
            let linkFlags = 0;
            fields(reader.bytes(), (f, w, r) => {
              if (f === 6 && w === 5) { linkFlags = r.fixed32(); return true; }
              return false;
            });
            span.links.push(linkFlags);
          } else return false;
          return true;
        });
        flags[spanId] = span;
      }))))));
  return flags;
}

function jsonFlags(object) {
  const flags = {};
  for (const rs of object.resourceSpans || []) {
    for (const ss of rs.scopeSpans || []) {
      for (const span of ss.spans || []) {
        flags[span.spanId] = {flags: span.flags || 0,
                              links: (span.links || []).map((l) => l.flags || 0)};
      }
    }
  }
  return flags;
}

// A canonical, comparable form of a decoded request: one entry per span with its resource
// and scope, sorted by span id; proto3 default values dropped (they are not on the wire).
function canonical(message) {
  const object = collector.ExportTraceServiceRequest.toObject(
      message, {longs: String, enums: Number, bytes: String, defaults: false});
  const ANY_VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue',
                                  'arrayValue']);
  const clean = (value, inAnyValue) => {
    if (Array.isArray(value)) return value.map((v) => clean(v, inAnyValue));
    if (value === null || typeof value !== 'object') return value;
    const out = {};
    for (const [key, v] of Object.entries(value)) {
      const keep = inAnyValue && ANY_VALUE_KEYS.has(key);
      let c = clean(v, key === 'value' || key === 'values' || key === 'arrayValue');
      if (ID_KEYS.has(key)) c = Buffer.from(v, 'base64').toString('hex');
      const isDefault = c === '' || c === 0 || c === '0' || c === false ||
          (Array.isArray(c) && c.length === 0) ||
          (c !== null && typeof c === 'object' && !Array.isArray(c) &&
           Object.keys(c).length === 0);
      if (keep || !isDefault) out[key] = c;
    }
    return out;
  };
  const cleaned = clean(object, false);
  const spans = [];
  const shape = [];
  for (const rs of cleaned.resourceSpans || []) {
    const scopes = [];
    for (const ss of rs.scopeSpans || []) {
      scopes.push((ss.spans || []).length);
      for (const span of ss.spans || []) {
        spans.push({resource: rs.resource || {}, scope: ss.scope || {}, span});
      }
    }
    shape.push(scopes);
  }
  spans.sort((a, b) => (a.span.spanId < b.span.spanId ? -1 : 1));
  return {shape, spans};
}

// The scripted answer for the n-th request: {grpcCode, retryDelayMs, httpStatus,
// retryAfter, delayMs, partial: {rejected, message}, hugeResponse}; {} (OK) once the script
// runs out. hugeResponse answers OK with a 5 MiB response.
//
// With {bench: true} (throughput runs) requests are decoded and their spans counted, but
// neither canonicalised nor kept; with {bench: true, decode: false} they are only acked.
class Receiver {
  constructor(script = [], {bench = false, decode = true} = {}) {
    this.script = script;
    this.bench = bench;
    this.decode = decode;
    this.requests = [];  // what arrived, decoded (not in bench mode)
    this.count = 0;
    this.servers = [];
  }

  nextAnswer() { return this.script[this.count - 1] || {}; }

  record(entry) {
    this.count += 1;
    if (!this.bench) this.requests.push(entry);
    if (this.onRequest) this.onRequest(entry);
  }

  // Bench mode: the number of spans in an encoded request (decoded for real).
  countSpans(message) {
    let spans = 0;
    for (const rs of message.resourceSpans) {
      for (const ss of rs.scopeSpans) spans += ss.spans.length;
    }
    return spans;
  }

  async startGrpc({port = 0, tls = null} = {}) {
    const server = new grpc.Server();
    // Lantern also exports metrics (and logs) to the same endpoint, as to a real collector:
    // accept them without recording, so trace assertions see traces only.
    for (const other of ['metrics.v1.MetricsService', 'logs.v1.LogsService']) {
      server.addService({Export: {
        path: `/opentelemetry.proto.collector.${other}/Export`, requestStream: false,
        responseStream: false, requestSerialize: (b) => b, requestDeserialize: (b) => b,
        responseSerialize: () => Buffer.alloc(0), responseDeserialize: (b) => b,
      }}, {Export: (call, callback) => {
        this.otherSignals = (this.otherSignals || 0) + 1;
        callback(null, {});
      }});
    }
    const service = {Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false, responseStream: false,
      requestSerialize: (b) => b, requestDeserialize: (b) => b,
      responseSerialize: (m) => Buffer.from(collector.ExportTraceServiceResponse.encode(m).finish()),
      responseDeserialize: (b) => b,
    }};
    server.addService(service, {Export: (call, callback) => {
      const entry = {transport: 'grpc', metadata: call.metadata.getMap(),
                     encoding: grpcEncodings.shift()};
      if (this.bench) {
        if (this.decode) {
          entry.spanCount = this.countSpans(collector.ExportTraceServiceRequest.decode(call.request));
        }
      } else try {
        entry.canonical = canonical(collector.ExportTraceServiceRequest.decode(call.request));
        entry.flags = wireFlags(call.request);
        entry.spanCount = entry.canonical.spans.length;
      } catch (e) {
        entry.decodeError = String(e);
      }
      this.record(entry);
      const answer = this.nextAnswer();
      const reply = () => {
        if (answer.grpcCode) {
          const metadata = new grpc.Metadata();
          if (answer.retryDelayMs !== undefined) {
            const retryInfo = RetryInfo.encode({retry_delay: {
              seconds: Math.floor(answer.retryDelayMs / 1000),
              nanos: (answer.retryDelayMs % 1000) * 1e6}}).finish();
            metadata.set('grpc-status-details-bin', Buffer.from(RpcStatus.encode({
              code: answer.grpcCode, message: 'scripted failure',
              details: [{type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo}],
            }).finish()));
          }
          callback({code: answer.grpcCode, details: 'scripted failure', metadata});
        } else if (answer.hugeResponse) {
          callback(null, {partialSuccess: {errorMessage: 'x'.repeat(5 << 20)}});
        } else if (answer.partial) {
          callback(null, {partialSuccess: {rejectedSpans: answer.partial.rejected,
                                           errorMessage: answer.partial.message}});
        } else {
          callback(null, {});
        }
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs); else reply();
    }});
    const credentials = tls ?
        grpc.ServerCredentials.createSsl(tls.clientCa || null,
                                         [{private_key: tls.key, cert_chain: tls.cert}],
                                         Boolean(tls.clientCa)) :
        grpc.ServerCredentials.createInsecure();
    const bound = await new Promise((resolve, reject) => server.bindAsync(
        `127.0.0.1:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
    this.servers.push({close: () => server.forceShutdown()});
    return bound;
  }

  async startHttp({port = 0, tls = null} = {}) {
    const handler = (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (/\/v1\/(metrics|logs)$/.test(req.url)) {  // other signals: see startGrpc
          this.otherSignals = (this.otherSignals || 0) + 1;
          res.writeHead(200, {'content-type': req.headers['content-type'] || ''});
          return res.end();
        }
        const entry = {transport: 'http', path: req.url, method: req.method,
                       headers: req.headers};
        const json = (req.headers['content-type'] || '').startsWith('application/json');
        if (this.bench) {
          if (this.decode) {
            let body = Buffer.concat(chunks);
            if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
            entry.spanCount = this.countSpans(json ? fromOtlpJson(JSON.parse(body.toString('utf8'))) :
                collector.ExportTraceServiceRequest.decode(body));
          }
        } else try {
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
          if (json) {
            const object = JSON.parse(body.toString('utf8'));
            entry.jsonViolations = otlpJsonViolations(object);
            entry.canonical = canonical(fromOtlpJson(object));
            entry.flags = jsonFlags(object);
          } else {
            entry.canonical = canonical(collector.ExportTraceServiceRequest.decode(body));
            entry.flags = wireFlags(body);
          }
          entry.spanCount = entry.canonical.spans.length;
        } catch (e) {
          entry.decodeError = String(e);
        }
        this.record(entry);
        const answer = this.nextAnswer();
        const reply = () => {
          if (res.destroyed) return;
          const status = answer.httpStatus || 200;
          const headers = {'content-type': json ? 'application/json' : 'application/x-protobuf'};
          if (answer.retryAfter !== undefined) {
            headers['retry-after'] = String(typeof answer.retryAfter === 'function' ?
                answer.retryAfter() : answer.retryAfter);
          }
          let body;
          if (answer.hugeResponse) {
            body = Buffer.alloc(5 << 20, 0x20);
          } else if (status !== 200) {
            body = json ? JSON.stringify({code: 3, message: 'scripted failure'}) :
                Buffer.from(RpcStatus.encode({code: 3, message: 'scripted failure'}).finish());
          } else {
            const response = answer.partial ? {partialSuccess: {
              rejectedSpans: answer.partial.rejected, errorMessage: answer.partial.message}} : {};
            body = json ?
                JSON.stringify(collector.ExportTraceServiceResponse.toObject(
                    collector.ExportTraceServiceResponse.fromObject(response), {longs: String})) :
                Buffer.from(collector.ExportTraceServiceResponse.encode(response).finish());
          }
          res.writeHead(status, headers);
          res.end(body);
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs); else reply();
      });
    };
    // tls.clientCa: require a client certificate signed by it (mutual TLS).
    const server = tls ? https.createServer({
      key: tls.key, cert: tls.cert,
      ...(tls.clientCa ? {ca: tls.clientCa, requestCert: true, rejectUnauthorized: true} : {}),
    }, handler) : http.createServer(handler);
    return this.listen(server, port);
  }

  // Accepts connections and never answers: a collector that hangs.
  async startBlackhole() {
    const sockets = [];
    const server = net.createServer((socket) => sockets.push(socket));
    const port = await this.listen(server, 0);
    this.servers.push({close: () => sockets.forEach((s) => s.destroy())});
    return port;
  }

  async listen(server, port) {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.servers.push({close: () => { server.closeAllConnections?.(); server.close(); }});
    return server.address().port;
  }

  close() { this.servers.forEach((s) => s.close()); }
}

module.exports = {Receiver, canonical, fromOtlpJson, otlpJsonViolations, jsonFlags, collector};
