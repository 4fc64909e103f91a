"""A stdio MCP server written with the SDK's high-level ``MCPServer``: its tools return plain values, which
the SDK sends both as text and as ``structuredContent`` (``{"result": ...}`` for a str or a list)."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("notes")


@server.tool()
def read_notes() -> str:
    """Read the notes."""
    return "hello notes\n"


@server.tool()
def list_notes() -> list[str]:
    """List the note names."""
    return ["a.md", "b.md"]


@server.tool()
def weather() -> dict[str, object]:
    """The weather."""
    return {"temperature": 21.5, "unit": "C"}


if __name__ == "__main__":
    server.run("stdio")
