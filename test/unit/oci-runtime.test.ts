import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvConfig } from '@mcp-code-mode/protocol';
import { ociRuntimeProblem } from '../../daemon/src/runtimes/container/oci-runtime.ts';

test('a runtime the engine lists is fine; one it lacks is named with what it has and how to register it', () => {
  assert.equal(ociRuntimeProblem('runsc', 'docker', ['runc', 'runsc']), undefined);
  const problem = ociRuntimeProblem('runsc', 'docker', ['runc']);
  assert.match(problem ?? '', /^MCP_BRIDGE_OCI_RUNTIME=runsc: the docker engine has no such runtime \(it has runc\); .*daemon\.json.*kill -HUP/);
  assert.match(ociRuntimeProblem('runsc', 'podman', ['crun']) ?? '', /containers\.conf/);
});

test('Podman takes an absolute path, which only the engine can check; Docker does not', () => {
  assert.equal(ociRuntimeProblem('/usr/bin/runsc', 'podman', ['crun']), undefined);
  assert.ok(ociRuntimeProblem('/usr/bin/runsc', 'docker', ['runc']));
});

test('MCP_BRIDGE_OCI_RUNTIME and MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT are checked when given', () => {
  const ok = parseEnvConfig({ MCP_BRIDGE_OCI_RUNTIME: 'runsc', MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '0' });
  assert.ok(ok.ok && ok.config.MCP_BRIDGE_OCI_RUNTIME === 'runsc' && ok.config.MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT === 0);
  const defaults = parseEnvConfig({});
  assert.ok(defaults.ok && defaults.config.MCP_BRIDGE_OCI_RUNTIME === undefined && defaults.config.MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT === 300);
  const bad = parseEnvConfig({ MCP_BRIDGE_OCI_RUNTIME: 'run sc; rm', MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '-1' });
  assert.ok(!bad.ok);
  assert.ok(bad.problems.some((p) => p.startsWith('MCP_BRIDGE_OCI_RUNTIME must be')));
  assert.ok(bad.problems.some((p) => p.includes('MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT')));
});
