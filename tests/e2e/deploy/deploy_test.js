'use strict';
// deploy/ parses and holds together: every YAML file under deploy/ loads; the Kubernetes
// resources, the compose file and the Dockerfile pass validate.js; and broken copies of
// them are rejected, so the checks themselves can fail.
//   node deploy_test.js            (LANTERN_SOURCE_DIR: the repository, default ../../..)
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const v = require('./validate.js');

const root = path.resolve(process.env.LANTERN_SOURCE_DIR || path.join(__dirname, '../../..'));
const deploy = path.join(root, 'deploy');
const otelNames = v.otelVariablesRead(root);
const { samplers, propagators } = v.acceptedNames(root);
const context = { otelNames, samplers, propagators, repoRoot: root };

function yamlFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

function kubernetesDocs() {
  const docs = [];
  for (const file of yamlFiles(path.join(deploy, 'kubernetes'))) {
    for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8'))) {
      if (doc !== null && doc !== undefined) docs.push({ file: path.relative(root, file), doc });
    }
  }
  return docs;
}

const composeFile = path.join(deploy, 'compose', 'docker-compose.yaml');
const dockerfile = path.join(deploy, 'Dockerfile');
const clone = (x) => JSON.parse(JSON.stringify(x));
const find = (docs, kind, name) => docs.find(({ doc }) => doc.kind === kind && (!name || doc.metadata.name === name)).doc;

const tests = [
  ['the telemetry variables were found in src/telemetry', () => {
    for (const name of ['OTEL_SERVICE_NAME', 'OTEL_TRACES_SAMPLER', 'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_INSECURE', 'OTEL_BSP_MAX_QUEUE_SIZE']) {
      assert.ok(otelNames.has(name), `${name} not found among ${[...otelNames].join(' ')}`);
    }
    assert.ok(samplers.has('parentbased_traceidratio') && samplers.has('always_off'), [...samplers].join());
    assert.deepStrictEqual([...propagators].sort(), ['baggage', 'none', 'tracecontext']);
  }],
  ['every YAML file under deploy/ parses', () => {
    const files = yamlFiles(deploy);
    assert.ok(files.length >= 6, `only ${files.length} YAML files`);
    for (const file of files) {
      const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d != null);
      assert.ok(docs.length >= 1, `${file}: empty`);
    }
  }],
  ['the Kubernetes resources hold together', () => {
    const docs = kubernetesDocs();
    const kinds = docs.map(({ doc }) => doc.kind);
    for (const kind of ['OpenTelemetryCollector', 'Instrumentation', 'Deployment', 'Service']) {
      assert.ok(kinds.includes(kind), `no ${kind}`);
    }
    assert.deepStrictEqual(v.validateKubernetes(docs, context), []);
    // The kustomization lists every other manifest.
    const kustomization = find(docs, 'Kustomization');
    const listed = new Set(kustomization.resources);
    for (const file of yamlFiles(path.join(deploy, 'kubernetes'))) {
      const name = path.basename(file);
      if (name !== 'kustomization.yaml') assert.ok(listed.has(name), `${name} missing from kustomization.yaml`);
    }
  }],
  ['broken Kubernetes resources are rejected', () => {
    const docs = kubernetesDocs();
    const mutations = {
      'inject-sdk names' : (d) => {
        find(d, 'Deployment', 'lantern').spec.template.metadata.annotations['instrumentation.opentelemetry.io/inject-sdk'] = 'other';
      },
      'inject a language agent': (d) => {
        const a = find(d, 'Deployment', 'lantern').spec.template.metadata.annotations;
        a['instrumentation.opentelemetry.io/inject-python'] = 'lantern-instrumentation';
      },
      'not a variable lantern': (d) => {
        find(d, 'Deployment', 'lantern').spec.template.spec.containers[0].env.push({ name: 'OTEL_EXPORTER_OTLP_TRACE_ENDPOINT', value: 'x' });
      },
      'targetPort': (d) => { find(d, 'Service', 'lantern').spec.ports[0].targetPort = 9000; },
      'readinessProbe path': (d) => { find(d, 'Deployment', 'lantern').spec.template.spec.containers[0].readinessProbe.httpGet.path = '/ready'; },
      'no containerPort 8000': (d) => { find(d, 'Deployment', 'lantern').spec.template.spec.containers[0].ports[0].containerPort = 8080; },
      'not a port of a collector service': (d) => { find(d, 'Instrumentation').spec.exporter.endpoint = 'http://collector:4317'; },
      'sampler "parentbased_jaeger_remote"': (d) => { find(d, 'Instrumentation').spec.sampler.type = 'parentbased_jaeger_remote'; },
      'propagator "b3"': (d) => { find(d, 'Instrumentation').spec.propagators.push('b3'); },
      'not declared': (d) => { find(d, 'OpenTelemetryCollector').spec.config.service.pipelines.traces.exporters.push('zipkin'); },
      'selector': (d) => { find(d, 'Deployment', 'lantern').spec.selector.matchLabels['app.kubernetes.io/name'] = 'x'; },
      'container args': (d) => { find(d, 'Deployment', 'lantern').spec.template.spec.containers[0].args = ['--port', '8000']; },
      'without metadata.name': (d) => { delete find(d, 'Service', 'lantern').metadata.name; },
    };
    for (const [expected, mutate] of Object.entries(mutations)) {
      const copy = clone(docs);
      mutate(copy);
      const problems = v.validateKubernetes(copy, context);
      assert.ok(problems.some((p) => p.includes(expected)), `mutation "${expected}" gave ${JSON.stringify(problems)}`);
    }
  }],
  ['the compose file holds together', () => {
    const doc = yaml.load(fs.readFileSync(composeFile, 'utf8'));
    assert.deepStrictEqual(v.validateCompose(doc, composeFile, context), []);
  }],
  ['broken compose files are rejected', () => {
    const doc = yaml.load(fs.readFileSync(composeFile, 'utf8'));
    const mutations = {
      'does not publish 4317': (d) => { d.services.jaeger.ports = d.services.jaeger.ports.filter((p) => !String(p).startsWith('4317')); },
      'does not name a compose service': (d) => { d.services.lantern.environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'grpc://collector:4317'; },
      'not a variable lantern': (d) => { d.services.lantern.environment.OTEL_EXPORTERS = 'otlp'; },
      'publish its port': (d) => { d.services.lantern.ports = ['9000:9000']; },
      'dockerfile': (d) => { d.services.lantern.build.dockerfile = 'deploy/Nope'; },
      'names no OTLP endpoint': (d) => { delete d.services.lantern.environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; },
    };
    for (const [expected, mutate] of Object.entries(mutations)) {
      const copy = clone(doc);
      mutate(copy);
      const problems = v.validateCompose(copy, composeFile, context);
      assert.ok(problems.some((p) => p.includes(expected)), `mutation "${expected}" gave ${JSON.stringify(problems)}`);
    }
  }],
  ['the Dockerfile builds on Debian 12 with the project scripts', () => {
    const text = fs.readFileSync(dockerfile, 'utf8');
    assert.deepStrictEqual(v.validateDockerfile(text, dockerfile, root), []);
    assert.ok(v.validateDockerfile(text.replace(/debian:12-slim/, 'ubuntu:24.04'), dockerfile, root).length > 0);
    assert.ok(v.validateDockerfile(text.replace(/COPY examples\/curl_traceparent\.sh/, 'COPY examples/missing.sh'), dockerfile, root)
      .some((p) => p.includes('missing.sh')));
  }],
];

let failed = 0;
for (const [name, fn] of tests) {
  try {
    fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n${e.stack || e}`);
  }
}
process.exit(failed ? 1 : 0);
