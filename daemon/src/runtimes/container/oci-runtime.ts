/**
 * Whether the engine can create sandboxes under MCP_BRIDGE_OCI_RUNTIME, as a problem to report or
 * undefined when it can. One check for the daemon (which refuses to start) and for `doctor`.
 */
export function ociRuntimeProblem(wanted: string, engineName: string, known: string[]): string | undefined {
  // Podman takes a path to the runtime binary as well as a name; the path is on the engine's host,
  // so the engine alone can say whether it is there (at the first sandbox).
  if (wanted.startsWith('/') && engineName === 'podman') return undefined;
  if (known.includes(wanted)) return undefined;
  const hint =
    engineName === 'podman'
      ? 'install it (apt-get install runsc for gVisor) and name it in containers.conf [engine.runtimes], or give its absolute path'
      : 'install it (apt-get install runsc for gVisor), register it in /etc/docker/daemon.json ({"runtimes": {"runsc": {"path": "/usr/bin/runsc"}}}) and reload dockerd (kill -HUP)';
  return `MCP_BRIDGE_OCI_RUNTIME=${wanted}: the ${engineName} engine has no such runtime (it has ${known.length > 0 ? known.join(', ') : 'none listed'}); ${hint}, or unset MCP_BRIDGE_OCI_RUNTIME`;
}
