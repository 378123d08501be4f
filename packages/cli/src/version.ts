// The version of the mcp-code-mode product (a test checks every package.json says the same).
export const VERSION = '0.1.0';
