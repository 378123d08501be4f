/** The version of mcp-code-mode, reported by `/v1/status` and `--version`. */
export const VERSION = '0.1.0';
