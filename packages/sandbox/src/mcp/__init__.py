"""The sandbox's view of the host's MCP servers.

``from mcp import runtime`` gives the helpers (discovery, docs, ``call_tool``...);
``mcp.servers.<alias>`` holds one async function per tool of each server loaded for the run.
This package shadows any ``mcp`` distribution installed in the image.
"""
