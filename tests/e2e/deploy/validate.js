'use strict';
// Structural checks of deploy/: the Kubernetes manifests, the compose file and the
// Dockerfile. Each check returns a list of problems (strings), so the tests can also feed
// broken copies and see them rejected.
const fs = require('fs');
const path = require('path');

// The OTEL_* variables lantern's telemetry reads, taken from its sources: the names
// spelled out in src/telemetry/*.cc, plus OTEL_EXPORTER_OTLP_[TRACES_]<SUFFIX> for each
// suffix otlp_env.cc looks up under both prefixes.
function otelVariablesRead(sourceDir) {
  const dir = path.join(sourceDir, 'src', 'telemetry');
  const names = new Set();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cc'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/"(OTEL_[A-Z_]*[A-Z])"/g)) names.add(m[1]);
  }
  const otlpEnv = fs.readFileSync(path.join(dir, 'otlp_env.cc'), 'utf8');
  const suffixes = new Set();
  // Per-signal variables are looked up as <signal prefix><suffix>, then the generic prefix.
  for (const m of otlpEnv.matchAll(/FirstValid<[^>]+>\(env, (?:signal_prefix, )?"([A-Z_]+)"/g)) suffixes.add(m[1]);
  for (const m of otlpEnv.matchAll(/std::string\(prefix\) \+ "([A-Z_]+)"/g)) suffixes.add(m[1]);
  // The signals lantern exports (the logs prefix is declared but nothing exports logs yet).
  const signals = ['TRACES', 'METRICS'].filter((s) => otlpEnv.includes(`"OTEL_EXPORTER_OTLP_${s}_"`));
  for (const suffix of suffixes) {
    names.add(`OTEL_EXPORTER_OTLP_${suffix}`);
    for (const signal of signals) names.add(`OTEL_EXPORTER_OTLP_${signal}_${suffix}`);
  }
  // The prefixes themselves are not variables.
  for (const prefix of [...names].filter((n) => n.endsWith('_'))) names.delete(prefix);
  return names;
}

// Sampler and propagator names lantern accepts (sampler.cc, propagation.cc).
function acceptedNames(sourceDir) {
  const sampler = fs.readFileSync(path.join(sourceDir, 'src/telemetry/sampler.cc'), 'utf8');
  const propagation = fs.readFileSync(path.join(sourceDir, 'src/telemetry/propagation.cc'), 'utf8');
  const samplers = new Set([...sampler.matchAll(/name == "([a-z_]+)"/g)].map((m) => m[1]));
  samplers.add('parentbased_always_on');  // the default, named in a string of its own
  const propagators = new Set([...propagation.matchAll(/name == "([a-z]+)"/g)].map((m) => m[1]));
  return { samplers, propagators };
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkEnv(where, env, otelNames, problems) {
  for (const [name] of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`${where}: bad variable name "${name}"`);
    if (name.startsWith('OTEL_') && !otelNames.has(name)) {
      problems.push(`${where}: ${name} is not a variable lantern's telemetry reads`);
    }
  }
}

// docs: [{file, doc}] of every Kubernetes document under deploy/kubernetes.
function validateKubernetes(docs, { otelNames, samplers, propagators }) {
  const problems = [];
  const byKind = {};
  for (const { file, doc } of docs) {
    const where = `${file}`;
    if (!isObject(doc)) { problems.push(`${where}: a document that is not a mapping`); continue; }
    for (const field of ['apiVersion', 'kind']) {
      if (typeof doc[field] !== 'string' || !doc[field]) problems.push(`${where}: no ${field}`);
    }
    if (doc.kind !== 'Kustomization' && !(isObject(doc.metadata) && doc.metadata.name)) {
      problems.push(`${where}: ${doc.kind} without metadata.name`);
    }
    (byKind[doc.kind] = byKind[doc.kind] || []).push({ file, doc });
  }
  const expectApi = { Deployment: 'apps/v1', Service: 'v1', Instrumentation: 'opentelemetry.io/v1alpha1',
                      OpenTelemetryCollector: 'opentelemetry.io/v1beta1' };
  for (const [kind, api] of Object.entries(expectApi)) {
    if (!byKind[kind]) problems.push(`no ${kind} in deploy/kubernetes`);
    for (const { file, doc } of byKind[kind] || []) {
      if (doc.apiVersion !== api) problems.push(`${file}: ${kind} apiVersion ${doc.apiVersion}, expected ${api}`);
    }
  }
  const named = (kind, name) => (byKind[kind] || []).find(({ doc }) => doc.metadata && doc.metadata.name === name);

  // Collector: OTLP receivers on 4317/4318; pipelines use declared components.
  const collectorServices = new Map();  // the Service the operator creates -> ports
  for (const { file, doc } of byKind.OpenTelemetryCollector || []) {
    const config = doc.spec && doc.spec.config;
    if (!isObject(config)) { problems.push(`${file}: spec.config must be a mapping (v1beta1)`); continue; }
    const protocols = (((config.receivers || {}).otlp || {}).protocols) || {};
    const ports = [];
    for (const [protocol, port] of [['grpc', 4317], ['http', 4318]]) {
      const endpoint = protocols[protocol] && protocols[protocol].endpoint;
      if (endpoint !== `0.0.0.0:${port}`) problems.push(`${file}: otlp ${protocol} receiver should listen on 0.0.0.0:${port}, got ${endpoint}`);
      ports.push(port);
    }
    const pipelines = ((config.service || {}).pipelines) || {};
    if (!pipelines.traces) problems.push(`${file}: no traces pipeline`);
    for (const [name, pipeline] of Object.entries(pipelines)) {
      for (const section of ['receivers', 'processors', 'exporters']) {
        for (const component of pipeline[section] || []) {
          if (!config[section] || !(component in config[section])) {
            problems.push(`${file}: pipeline ${name} uses ${section.slice(0, -1)} "${component}" that is not declared`);
          }
        }
      }
    }
    collectorServices.set(`${doc.metadata.name}-collector`, ports);
  }

  // Instrumentation: endpoint at a collector's service, propagators and sampler we know.
  for (const { file, doc } of byKind.Instrumentation || []) {
    const spec = doc.spec || {};
    const endpoint = spec.exporter && spec.exporter.endpoint;
    const m = /^(https?):\/\/([^:/]+):(\d+)\/?$/.exec(endpoint || '');
    if (!m) {
      problems.push(`${file}: exporter.endpoint "${endpoint}" is not scheme://host:port`);
    } else if (!collectorServices.has(m[2]) || !collectorServices.get(m[2]).includes(Number(m[3]))) {
      problems.push(`${file}: exporter.endpoint ${endpoint} is not a port of a collector service (${[...collectorServices.keys()]})`);
    }
    for (const p of spec.propagators || []) {
      if (!propagators.has(p)) problems.push(`${file}: propagator "${p}" is not one lantern implements`);
    }
    if (!(spec.propagators || []).includes('tracecontext')) problems.push(`${file}: propagators lack tracecontext`);
    const sampler = spec.sampler || {};
    if (!samplers.has(sampler.type)) problems.push(`${file}: sampler "${sampler.type}" is not one lantern implements`);
    if (sampler.type && sampler.type.endsWith('traceidratio')) {
      const ratio = Number(sampler.argument);
      if (typeof sampler.argument !== 'string' || !(ratio >= 0 && ratio <= 1)) {
        problems.push(`${file}: sampler argument must be a ratio in [0, 1] as a string, got ${sampler.argument}`);
      }
    }
    checkEnv(`${file} spec.env`, (spec.env || []).map((e) => [e.name, e.value]), otelNames, problems);
  }

  // Deployments and the services in front of them.
  for (const { file, doc } of byKind.Deployment || []) {
    const spec = doc.spec || {};
    const template = spec.template || {};
    const labels = (template.metadata && template.metadata.labels) || {};
    const match = (spec.selector && spec.selector.matchLabels) || {};
    for (const [k, v] of Object.entries(match)) {
      if (labels[k] !== v) problems.push(`${file}: selector ${k}=${v} does not match the pod labels`);
    }
    if (!Object.keys(match).length) problems.push(`${file}: empty selector`);
    const containers = (template.spec && template.spec.containers) || [];
    if (!containers.length) problems.push(`${file}: no containers`);
    for (const c of containers) {
      if (!c.name || !c.image) problems.push(`${file}: a container without name or image`);
      checkEnv(`${file} container ${c.name}`, (c.env || []).map((e) => [e.name, e.value]), otelNames, problems);
    }
    if (doc.metadata.name !== 'lantern') continue;

    const annotations = (template.metadata && template.metadata.annotations) || {};
    const inject = annotations['instrumentation.opentelemetry.io/inject-sdk'];
    if (inject === undefined) {
      problems.push(`${file}: the pod template lacks the instrumentation.opentelemetry.io/inject-sdk annotation`);
    } else if (!(named('Instrumentation', inject) || (inject === 'true' && (byKind.Instrumentation || []).length === 1))) {
      problems.push(`${file}: inject-sdk names "${inject}", not an Instrumentation in deploy/kubernetes`);
    }
    for (const key of Object.keys(annotations)) {
      if (/^instrumentation\.opentelemetry\.io\/inject-(python|java|nodejs|dotnet|go)$/.test(key)) {
        problems.push(`${file}: ${key} would inject a language agent; lantern is native (inject-sdk)`);
      }
    }
    const c = containers.find((x) => x.name === 'lantern') || containers[0] || {};
    const args = [...(c.command || []), ...(c.args || [])];
    const serve = args.indexOf('serve');
    if (serve < 0 || !args[serve + 1] || args[serve + 1].startsWith('-')) {
      problems.push(`${file}: container args should be "serve <model> ...", got ${JSON.stringify(args)}`);
    }
    const portFlag = args.indexOf('--port');
    const servePort = portFlag >= 0 ? Number(args[portFlag + 1]) : 8000;
    const ports = c.ports || [];
    const httpPort = ports.find((p) => p.containerPort === servePort);
    if (!httpPort) problems.push(`${file}: no containerPort ${servePort} (the port lantern listens on)`);
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      const get = c[probe] && c[probe].httpGet;
      if (!get) { problems.push(`${file}: no ${probe}.httpGet`); continue; }
      if (get.path !== '/health') problems.push(`${file}: ${probe} path ${get.path}, expected /health`);
      if (!(get.port === servePort || (httpPort && get.port === httpPort.name))) {
        problems.push(`${file}: ${probe} port ${get.port} is not the server's port`);
      }
    }
    // A Service selecting these pods, whose targetPort is the container's port.
    const services = (byKind.Service || []).filter(({ doc: s }) => {
      const sel = (s.spec && s.spec.selector) || {};
      return Object.keys(sel).length && Object.entries(sel).every(([k, v]) => labels[k] === v);
    });
    if (!services.length) problems.push(`${file}: no Service selects the lantern pods`);
    for (const { file: sfile, doc: s } of services) {
      for (const p of s.spec.ports || []) {
        const target = p.targetPort === undefined ? p.port : p.targetPort;
        const ok = ports.some((cp) => cp.containerPort === target || (cp.name && cp.name === target));
        if (!ok) problems.push(`${sfile}: targetPort ${target} matches no container port of ${file}`);
      }
    }
  }
  // Every Service selects some Deployment's pods.
  for (const { file, doc: s } of byKind.Service || []) {
    const sel = (s.spec && s.spec.selector) || {};
    const hit = (byKind.Deployment || []).some(({ doc }) => {
      const labels = (((doc.spec || {}).template || {}).metadata || {}).labels || {};
      return Object.keys(sel).length && Object.entries(sel).every(([k, v]) => labels[k] === v);
    });
    if (!hit) problems.push(`${file}: Service ${s.metadata.name} selects no Deployment's pods`);
  }
  return problems;
}

function envEntries(env) {
  if (Array.isArray(env)) return env.map((e) => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)]; });
  return Object.entries(env || {}).map(([k, v]) => [k, String(v)]);
}

function publishedPorts(service) {
  return (service.ports || []).map((p) => {
    const text = String(typeof p === 'object' ? `${p.published}:${p.target}` : p).replace(/\/(tcp|udp)$/, '');
    const parts = text.split(':');
    return { published: Number(parts[parts.length - 2]), target: Number(parts[parts.length - 1]) };
  });
}

function validateCompose(doc, file, { otelNames, samplers, repoRoot }) {
  const problems = [];
  const services = (doc && doc.services) || {};
  const jaeger = services.jaeger;
  if (!jaeger) {
    problems.push(`${file}: no jaeger service`);
  } else {
    if (!/^jaegertracing\/all-in-one:/.test(jaeger.image || '')) problems.push(`${file}: jaeger should run jaegertracing/all-in-one`);
    const ports = publishedPorts(jaeger);
    for (const port of [16686, 4317, 4318]) {
      if (!ports.some((p) => p.published === port && p.target === port)) problems.push(`${file}: jaeger does not publish ${port}`);
    }
  }
  const lantern = services.lantern;
  if (!lantern) return problems.concat(`${file}: no lantern service`);
  const command = Array.isArray(lantern.command) ? lantern.command : String(lantern.command || '').split(/\s+/);
  if (command[0] !== 'serve' || !command[1]) problems.push(`${file}: lantern's command should be "serve <model> ..."`);
  const portFlag = command.indexOf('--port');
  const servePort = portFlag >= 0 ? Number(command[portFlag + 1]) : 8000;
  if (!publishedPorts(lantern).some((p) => p.target === servePort)) problems.push(`${file}: lantern does not publish its port ${servePort}`);
  if (lantern.build) {
    const context = path.resolve(path.dirname(file), lantern.build.context || '.');
    const dockerfile = path.join(context, lantern.build.dockerfile || 'Dockerfile');
    if (!fs.existsSync(dockerfile)) problems.push(`${file}: build dockerfile ${dockerfile} does not exist`);
    if (path.resolve(context) !== path.resolve(repoRoot)) problems.push(`${file}: build context should be the repository root`);
  } else if (!lantern.image) {
    problems.push(`${file}: lantern has neither build nor image`);
  }
  for (const [name, service] of Object.entries(services)) {
    const env = envEntries(service.environment);
    checkEnv(`${file} service ${name}`, env, otelNames, problems);
    const map = Object.fromEntries(env);
    for (const key of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
      if (!map[key]) continue;
      const m = /^(grpc|https?):\/\/([^:/]+):(\d+)/.exec(map[key]);
      if (!m || !services[m[2]]) {
        problems.push(`${file} service ${name}: ${key}=${map[key]} does not name a compose service`);
      } else if (!publishedPorts(services[m[2]]).some((p) => p.target === Number(m[3]))) {
        problems.push(`${file} service ${name}: ${key} port ${m[3]} is not one ${m[2]} exposes`);
      }
    }
    if (map.OTEL_TRACES_SAMPLER && !samplers.has(map.OTEL_TRACES_SAMPLER)) {
      problems.push(`${file} service ${name}: OTEL_TRACES_SAMPLER=${map.OTEL_TRACES_SAMPLER} is not a sampler lantern implements`);
    }
  }
  if (!envEntries(lantern.environment).some(([k]) => /^OTEL_EXPORTER_OTLP_(TRACES_)?ENDPOINT$|^OTEL_TRACES_EXPORTER$/.test(k))) {
    problems.push(`${file}: lantern's environment names no OTLP endpoint (tracing would stay off)`);
  }
  return problems;
}

// The Dockerfile: Debian 12, the project's install script, the files it copies exist.
function validateDockerfile(text, file, repoRoot) {
  const problems = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  if (!froms.length || !froms.every((l) => /^FROM\s+debian:12(-slim)?(\s|$)/i.test(l))) {
    problems.push(`${file}: every stage should be FROM debian:12 (or debian:12-slim)`);
  }
  if (!lines.some((l) => /^RUN\s.*scripts\/install-deps/.test(l))) problems.push(`${file}: does not run scripts/install-deps`);
  if (!lines.some((l) => /cmake --build .*--target .*\blantern\b/.test(l) || /\bmake build\b/.test(l))) {
    problems.push(`${file}: does not build lantern`);
  }
  for (const l of lines.filter((x) => /^COPY\s/i.test(x) && !/--from=/.test(x))) {
    const parts = l.split(/\s+/).slice(1);
    for (const source of parts.slice(0, -1)) {
      if (source !== '.' && !fs.existsSync(path.join(repoRoot, source))) problems.push(`${file}: COPY source ${source} does not exist`);
    }
  }
  const entry = lines.find((l) => /^ENTRYPOINT\s/i.test(l));
  if (!entry || !/lantern/.test(entry)) problems.push(`${file}: ENTRYPOINT should run lantern`);
  if (!lines.some((l) => /^EXPOSE\s+8000\b/i.test(l))) problems.push(`${file}: does not EXPOSE 8000`);
  return problems;
}

module.exports = { otelVariablesRead, acceptedNames, validateKubernetes, validateCompose, validateDockerfile };
