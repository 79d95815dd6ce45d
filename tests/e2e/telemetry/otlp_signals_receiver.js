'use strict';
// An independent OTLP receiver for metrics and logs (and traces, so exemplars and log
// records can be matched with the spans that arrived): OTLP/gRPC with @grpc/grpc-js and
// OTLP/HTTP (protobuf and JSON), decoded with the code OpenTelemetry generated from its own
// .proto files (@opentelemetry/otlp-transformer's root.js). Answers follow a script of
// faults, as otlp_receiver.js does for traces.
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const NODE_MODULES = path.resolve(__dirname, '../../node_modules');
const grpc = require(path.join(NODE_MODULES, '@grpc/grpc-js'));
const otlpRoot = require(path.join(
    NODE_MODULES, '@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const collectors = otlpRoot.opentelemetry.proto.collector;

const SIGNALS = {
  traces: {service: 'trace', request: collectors.trace.v1.ExportTraceServiceRequest,
           response: collectors.trace.v1.ExportTraceServiceResponse, rejected: 'rejectedSpans'},
  metrics: {service: 'metrics', request: collectors.metrics.v1.ExportMetricsServiceRequest,
            response: collectors.metrics.v1.ExportMetricsServiceResponse,
            rejected: 'rejectedDataPoints'},
  logs: {service: 'logs', request: collectors.logs.v1.ExportLogsServiceRequest,
         response: collectors.logs.v1.ExportLogsServiceResponse, rejected: 'rejectedLogRecords'},
};
const GRPC_PATHS = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

// OTLP/JSON ids are hex; protobuf's JSON mapping (fromObject) expects base64.
function fromOtlpJson(type, object) {
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
  return type.fromObject(convert(object));
}

// Decoded message -> plain object: 64-bit integers as strings, enums as numbers, ids hex.
function plain(type, message) {
  const object = type.toObject(message, {longs: String, enums: Number, bytes: String,
                                         defaults: false, arrays: true});
  const hexIds = (value) => {
    if (Array.isArray(value)) return value.forEach(hexIds);
    if (value === null || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value)) {
      if (ID_KEYS.has(key) && typeof v === 'string') {
        value[key] = Buffer.from(v, 'base64').toString('hex');
      } else {
        hexIds(v);
      }
    }
  };
  hexIds(object);
  return object;
}

// Script entries: {grpcCode}, {httpStatus, retryAfter}, {partial: {rejected, message}}.
class SignalsReceiver {
  constructor(script = []) {
    this.script = script;
    this.count = 0;
    this.requests = [];  // {signal, transport, path, headers, body (plain object), error}
    this.servers = [];
  }

  answer() { return this.script[this.count++] || {}; }

  signal(name) { return this.requests.filter((r) => r.signal === name); }

  async startGrpc() {
    const server = new grpc.Server();
    for (const [name, signal] of Object.entries(SIGNALS)) {
      server.addService({Export: {
        path: GRPC_PATHS[name], requestStream: false, responseStream: false,
        requestSerialize: (b) => b, requestDeserialize: (b) => b,
        responseSerialize: (m) => Buffer.from(signal.response.encode(m).finish()),
        responseDeserialize: (b) => b,
      }}, {Export: (call, callback) => {
        const entry = {signal: name, transport: 'grpc', metadata: call.metadata.getMap()};
        try {
          entry.body = plain(signal.request, signal.request.decode(call.request));
        } catch (e) {
          entry.error = String(e);
        }
        this.requests.push(entry);
        const answer = this.answer();
        if (answer.grpcCode) return callback({code: answer.grpcCode, details: 'scripted'});
        const partial = answer.partial ? {partialSuccess: {
          [signal.rejected]: answer.partial.rejected, errorMessage: answer.partial.message}} : {};
        callback(null, partial);
      }});
    }
    const port = await new Promise((resolve, reject) => server.bindAsync(
        '127.0.0.1:0', grpc.ServerCredentials.createInsecure(),
        (err, p) => (err ? reject(err) : resolve(p))));
    this.servers.push({close: () => server.forceShutdown()});
    return port;
  }

  async startHttp() {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const name = {'/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs'}[
            req.url.replace(/^\/custom/, '')];
        const json = (req.headers['content-type'] || '').startsWith('application/json');
        const entry = {signal: name, transport: 'http', path: req.url, headers: req.headers, json};
        const signal = SIGNALS[name];
        if (!signal) {
          res.writeHead(404);
          return res.end();
        }
        try {
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
          const message = json ? fromOtlpJson(signal.request, JSON.parse(body.toString('utf8'))) :
              signal.request.decode(body);
          entry.body = plain(signal.request, message);
          if (json) entry.raw = JSON.parse(body.toString('utf8'));
        } catch (e) {
          entry.error = String(e);
        }
        this.requests.push(entry);
        const answer = this.answer();
        const headers = {'content-type': json ? 'application/json' : 'application/x-protobuf'};
        if (answer.httpStatus) {
          if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
          res.writeHead(answer.httpStatus, headers);
          return res.end();
        }
        const response = answer.partial ? {partialSuccess: {
          [signal.rejected]: answer.partial.rejected, errorMessage: answer.partial.message}} : {};
        res.writeHead(200, headers);
        res.end(json ? JSON.stringify(response) :
            Buffer.from(signal.response.encode(response).finish()));
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.push({close: () => { server.closeAllConnections?.(); server.close(); }});
    return server.address().port;
  }

  close() { this.servers.forEach((s) => s.close()); }
}

// Every metric of the metrics requests, flattened: {name, unit, type, data, resource, scope}.
function metricsOf(requests) {
  const out = [];
  for (const r of requests) {
    for (const rm of r.body.resourceMetrics || []) {
      for (const sm of rm.scopeMetrics || []) {
        for (const m of sm.metrics || []) {
          const type = ['sum', 'gauge', 'histogram', 'exponentialHistogram'].find((t) => m[t]);
          out.push({name: m.name, unit: m.unit, description: m.description, type, data: m[type],
                    resource: rm.resource, scope: sm.scope, request: r});
        }
      }
    }
  }
  return out;
}

module.exports = {SignalsReceiver, metricsOf};
