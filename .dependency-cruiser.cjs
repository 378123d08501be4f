// The shape of the code, checked on every test run (`npm run check:deps`): packages by role, the
// daemon and the shim as peers, no folder cycles in the daemon. A forbidden import fails the build.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'daemon-and-shim-are-peers',
      comment: 'The daemon and the shim stand on client and protocol; neither imports the other.',
      severity: 'error',
      from: { path: '^daemon/' },
      to: { path: '^shim/' },
    },
    {
      name: 'shim-and-daemon-are-peers',
      severity: 'error',
      from: { path: '^shim/' },
      to: { path: '^daemon/' },
    },
    {
      name: 'only-the-cli-wires-packages',
      comment: 'packages/cli is the top: nothing imports it.',
      severity: 'error',
      from: { pathNot: '^packages/cli/' },
      to: { path: '^packages/cli/' },
    },
    {
      name: 'client-is-light',
      comment: 'The control client, state paths and launcher: protocol and Node only (every CLI command loads them).',
      severity: 'error',
      from: { path: '^packages/client/' },
      to: { path: '^(daemon|shim|packages/cli)/|node_modules/(@modelcontextprotocol|dockerode|fastify|pino)' },
    },
    {
      name: 'protocol-is-schemas-only',
      comment: 'zod schemas and their types: no I/O, no node:* modules, no other package.',
      severity: 'error',
      from: { path: '^packages/protocol/src/' },
      to: { pathNot: '^packages/protocol/src/|node_modules/zod/' },
    },
    {
      name: 'shim-never-talks-to-the-engine',
      severity: 'error',
      from: { path: '^shim/' },
      to: { path: 'node_modules/(dockerode|docker-modem|fastify)/' },
    },
    {
      name: 'only-the-container-runtime-loads-dockerode',
      comment: 'Runtimes behind one interface: the pool, runs and sessions never know which engine serves them.',
      severity: 'error',
      from: { path: '^daemon/src/', pathNot: '^daemon/src/runtimes/container/' },
      to: { path: 'node_modules/(dockerode|docker-modem)/' },
    },
    {
      name: 'no-folder-cycles-in-the-daemon',
      severity: 'error',
      scope: 'folder',
      from: { path: '^daemon/src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      from: { path: '^(daemon|shim|packages)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/|\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      // The workspace packages resolve to their sources (the `source` export condition), so that an
      // import of `@mcp-code-mode/shim` from the daemon is seen as what it is: daemon -> shim/src.
      conditionNames: ['source', 'import', 'types', 'default'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
  },
};
