"""Carriers and pure functions that several floors share: the loop, the services, persistence and the
MCP server all speak these. Nothing here imports anything above it (only the standard library and
``builtin_tools``' small types).

    messages.py   StoredMessage (+ ToolCallRecord, ToolReturnRecord) and their LettaMessage views
    letta.py      Letta's messages as typed carriers (AssistantMessage, ToolCallMessage, UsageStatistics...)
    prompt.py     the system prompt compiled from memory blocks
    events.py     what a running turn yields: Letta messages, then its stop reason and usage
"""
