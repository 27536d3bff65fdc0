import type { ExecutionContext } from 'ava';
import { waitFor } from '../helpers/index.ts';

export interface SseMessage {
  event: string;
  data: unknown;
}

/**
 * A server-sent-events client for tests: reads `url` over real HTTP, keeps every message in arrival
 * order, and closes in the test's teardown.
 */
export class SseReader {
  readonly messages: SseMessage[] = [];
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  static async open(t: ExecutionContext, url: string): Promise<SseReader> {
    const reader = new SseReader();
    const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: reader.abort.signal });
    if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status}`);
    t.teardown(() => reader.close());
    reader.done = reader.read(res.body);
    return reader;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) this.messages.push({ event, data: JSON.parse(data.join('\n')) as unknown });
        }
      }
    } catch {
      // aborted by close()
    }
  }

  /** The first message (at or after `from`) for which `match` returns a value. */
  async next<T>(match: (m: SseMessage) => T | undefined, timeoutMs = 60_000, from = 0): Promise<NonNullable<T>> {
    return waitFor(() => {
      for (const m of this.messages.slice(from)) {
        const hit = match(m);
        if (hit) return hit;
      }
      return undefined;
    }, timeoutMs);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
