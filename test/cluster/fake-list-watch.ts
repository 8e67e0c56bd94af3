// A ListWatch the test drives: queued list answers, and every watch opened, to send events into.
import type { ListResult, ListWatch, WatchCallbacks } from '../../src/cluster/reflector.js';

export interface OpenedWatch {
  readonly resourceVersion: string;
  readonly timeoutSeconds: number;
  readonly callbacks: WatchCallbacks;
  stopped: boolean;
}

export class FakeListWatch<T> implements ListWatch<T> {
  readonly listAnswers: Array<ListResult<T> | Error> = [];
  listCalls = 0;
  readonly watches: OpenedWatch[] = [];

  async list(): Promise<ListResult<T>> {
    this.listCalls++;
    const answer = this.listAnswers.shift();
    if (answer === undefined) throw new Error('no list answer queued');
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async watch(resourceVersion: string, timeoutSeconds: number, callbacks: WatchCallbacks): Promise<{ stop(): void }> {
    const opened: OpenedWatch = { resourceVersion, timeoutSeconds, callbacks, stopped: false };
    this.watches.push(opened);
    return { stop: () => (opened.stopped = true) };
  }

  lastWatch(): OpenedWatch {
    const last = this.watches[this.watches.length - 1];
    if (!last) throw new Error('no watch opened');
    return last;
  }
}
