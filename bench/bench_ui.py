"""The web UI: time to first paint and to "ready" of / and of an agent page, and bytes transferred.

Run: `python bench/bench_ui.py [--agents 1000] [--turns 125] [--runs 5]`. Needs Playwright (the [test]
extra) and /usr/bin/chromium. Starts the scripted LLM and a real `agenthost serve` (SQLite, or Postgres
with --pg / AGENTHOST_TEST_PG_URI), creates `--agents` agents, gives one agent `--turns` echo turns
(3 messages each: user, reasoning, reply -> about 500 messages by default), then loads each page
`--runs` times in a fresh browser context (cold cache) and reports medians:

- first paint / first contentful paint (the browser's paint timing),
- ready: the `agenthost:ready` mark the UI sets once the page's data is rendered,
- bytes: the sum of transferSize over the navigation and every resource (what went over the wire).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

MODEL = "openai-proxy/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"
METRICS = """() => {
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]));
  const ready = performance.getEntriesByName('agenthost:ready')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  const bytes = performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, nav.transferSize);
  return {fp: paint['first-paint'], fcp: paint['first-contentful-paint'], ready: ready && ready.startTime,
          bytes, requests: performance.getEntriesByType('resource').length + 1};
}"""


def populate(base: str, agents: int, turns: int) -> tuple[str, int]:
    with httpx.Client(base_url=base, timeout=120) as http:
        def create(i: int) -> str:
            r = http.post("/v1/agents/", json={"name": f"bench-{i:05d}", "model": MODEL, "embedding": EMBEDDING,
                                               "memory_blocks": [{"label": "persona", "value": "bench"}]})
            r.raise_for_status()
            return str(r.json()["id"])

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(create, range(agents)))
        print(f"created {agents} agents in {time.perf_counter() - started:.1f} s")
        target = ids[-1]
        started = time.perf_counter()
        for i in range(turns):
            r = http.post(f"/v1/agents/{target}/messages",
                          json={"messages": [{"role": "user", "content": f"message number {i} of the bench"}]})
            r.raise_for_status()
        count = len(http.get(f"/v1/agents/{target}/messages", params={"limit": 5000}).json())
        print(f"{turns} turns in {time.perf_counter() - started:.1f} s: {count} messages in the agent's history")
        return target, count


def measure(browser: object, url: str, ready_selector: str, runs: int) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(url)
        page.locator(ready_selector).first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        samples.append(page.evaluate(METRICS))
        context.close()
    return {key: statistics.median(s[key] for s in samples if s[key] is not None)
            for key in ("fp", "fcp", "ready", "bytes", "requests")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=167)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, ScriptedLLM() as llm:
        home = Path(tmp)
        env = server_env(home, llm.base_url, pg_uri=fresh_pg_database(args.pg) if args.pg else None)
        with ServerProcess(home=home, env=env) as server:
            agent_id, messages = populate(server.base_url, args.agents, args.turns)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
                pages = [(f"/ (list of {args.agents} agents)", "/", ".agent-list li.row"),
                         (f"agent page ({messages} messages)", f"/agents/{agent_id}", ".log[data-ready=true]")]
                print(f"\n{'page':34} {'first paint':>12} {'FCP':>8} {'ready':>8} {'bytes':>10} {'requests':>9}")
                for label, path, selector in pages:
                    m = measure(browser, server.base_url + path, selector, args.runs)
                    print(f"{label:34} {m['fp']:>10.0f}ms {m['fcp']:>6.0f}ms {m['ready']:>6.0f}ms "
                          f"{m['bytes'] / 1024:>8.1f}KB {m['requests']:>9.0f}")
                browser.close()


if __name__ == "__main__":
    main()
