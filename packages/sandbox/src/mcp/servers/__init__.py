"""One module per MCP server of the current run (``mcp.servers.<alias>``), created at execute time.

Each module holds one async function per tool (docstring = tool description), plus ``TOOLS``
(the tools' metadata) and ``TOOL_MAP`` (alias -> metadata).
"""
