// Drive @letta-ai/letta-client 1.12.1 (TypeScript SDK) through the 1.x flows.
//   node flows.mjs <flow> <base_url> '<json params>'   -> prints one JSON object: what the flow observed
import Letta from "@letta-ai/letta-client";

const FLOWS = {};

async function agent(client, p, extra = {}) {
  return client.agents.create({ model: p.model, embedding: p.embedding,
    memory_blocks: [{ label: "human", value: "x" }], ...extra });
}

FLOWS.agents = async (client, p) => {
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await agent(client, p, { name: `${p.tag}-${i}`, tags: [p.tag] })).id);
  const out = { ids };
  for (const order of ["asc", "desc"]) {
    const seen = [];
    for await (const a of client.agents.list({ tags: [p.tag], limit: 2, order })) seen.push(a.id);
    out[order] = seen;
  }
  const one = await client.agents.retrieve(ids[0]);
  out.type = one.agent_type;
  out.plain_tools = (one.tools || []).length;
  return out;
};

FLOWS.blocks = async (client, p) => {
  const a = await agent(client, p);
  const block = await client.blocks.create({ label: "project", value: "agenthost", limit: 1000 });
  await client.agents.blocks.attach(block.id, { agent_id: a.id });
  const labels = [];
  for await (const b of client.agents.blocks.list(a.id)) labels.push(b.label);
  return { labels: labels.sort(), block: block.id };
};

FLOWS.messages = async (client, p) => {
  const a = await agent(client, p);
  const reply = await client.agents.messages.create(a.id, { messages: [{ role: "user", content: "hi" }] });
  const stream = await client.agents.messages.create(a.id, {
    messages: [{ role: "user", content: "stream" }], streaming: true });
  const kinds = [];
  for await (const chunk of stream) kinds.push(chunk.message_type);
  const bg = await client.agents.messages.create(a.id, {
    messages: [{ role: "user", content: "bg" }], streaming: true, background: true });
  const live = [];
  let runId = null;
  for await (const chunk of bg) { live.push([chunk.message_type, chunk.seq_id ?? null]); runId ??= chunk.run_id; }
  if (runId === null) return { live, kinds };
  const resumed = [];
  for await (const chunk of await client.runs.messages.stream(runId, { starting_after: 1 })) {
    resumed.push([chunk.message_type, chunk.seq_id ?? null]);
  }
  return { sync: reply.messages.map((m) => m.message_type), stop: reply.stop_reason.stop_reason,
           kinds, live, resumed };
};

FLOWS.client_tools = async (client, p) => {
  const a = await agent(client, p);
  const tool = { name: "read_file", description: "Read a local file",
    parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } };
  const paused = await client.agents.messages.create(a.id, {
    messages: [{ role: "user", content: "read it" }], client_tools: [tool] });
  const request = paused.messages.find((m) => m.message_type === "approval_request_message");
  const done = await client.agents.messages.create(a.id, { client_tools: [tool], messages: [{ type: "approval",
    approvals: [{ type: "tool", tool_call_id: request.tool_call.tool_call_id, tool_return: "file text",
                  status: "success" }] }] });
  return { paused: paused.stop_reason.stop_reason, tool: request.tool_call.name,
           done: done.messages.map((m) => [m.message_type, m.content ?? m.tool_return ?? null]) };
};

FLOWS.archives = async (client, p) => {
  const archive = await client.archives.create({ name: p.name, embedding: p.embedding });
  const passage = await client.archives.passages.create(archive.id, { text: "The capital of France is Paris." });
  const listed = [];
  for await (const a of client.archives.list({ name: p.name })) listed.push(a.id);
  return { archive: archive.id, passage_archive: passage.archive_id, listed };
};

FLOWS.conversations = async (client, p) => {
  const a = await agent(client, p);
  const conv = await client.conversations.create({ agent_id: a.id, summary: "ts" });
  const kinds = [];
  const stream = await client.conversations.messages.create(conv.id, {
    messages: [{ role: "user", content: "hello conversation" }] });
  for await (const chunk of stream) kinds.push(chunk.message_type);
  const history = [];
  for await (const m of client.conversations.messages.list(conv.id, { order: "asc" })) history.push(m.message_type);
  return { conv: conv.id, agent: conv.agent_id, expected_agent: a.id, kinds, history };
};

FLOWS.errors = async (client) => {
  try {
    await client.agents.retrieve("agent-00000000-0000-4000-8000-000000000000");
    return { raised: null };
  } catch (err) {
    return { raised: err.constructor.name, status: err.status };
  }
};

const [name, baseURL, raw] = process.argv.slice(2);
const client = new Letta({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 120000 });
const out = await FLOWS[name](client, JSON.parse(raw || "{}"));
console.log(JSON.stringify(out));
