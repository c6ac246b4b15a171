import { describe, expect, it } from 'vitest';
import type { CacheBackend, ChangeFeed, KeyChange } from '../../cache-backend.js';
import { expectOk, listenToChanges } from '../helpers.js';
import { type ConformanceContext, settle, sleep } from './context.js';

/** How long a change feed may take to arm, or to deliver a change, in the suite. */
const FEED_WAIT_MS = 5_000;

/** Waits until `check` holds, failing the test after `withinMs`. */
async function waitFor(what: string, check: () => boolean, withinMs = FEED_WAIT_MS): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) expect.fail(`timed out after ${withinMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The change feed of a shared store: it arms, reports other caches' writes but not the cache's own, carries
 * `announce` to the other caches of the prefix, and survives listeners that throw or leave. Its tests run
 * only where the target declares the `changeFeed` capability; elsewhere one test checks there is no feed.
 */
export function describeChangeFeed({ name, make, makeSharing, capabilities }: ConformanceContext): void {
  const hasChangeFeed = capabilities.changeFeed;

  /** The cache's change feed, which a backend declaring the capability must have. */
  function feedOf(cache: CacheBackend): ChangeFeed {
    if (cache.changes === null || cache.changes === undefined) {
      return expect.fail(`${name} declares the changeFeed capability, but its \`changes\` is null`);
    }
    return cache.changes;
  }

  async function armed(...caches: CacheBackend[]): Promise<void> {
    await waitFor('the change feed to arm', () => caches.every((cache) => feedOf(cache).armed));
  }

  if (!hasChangeFeed) {
    // Rather than tests shown as skipped: a backend with a feed must declare it, or its feed goes unchecked.
    it('has no change feed (it does not declare the changeFeed capability)', async () => {
      const cache = await make();
      expect(cache.changes ?? null).toBeNull();
    });
    return;
  }

  describe('change feed (capability changeFeed)', () => {
    it('changes is a feed that arms within a few seconds of the first subscribe', async () => {
      const cache = await make();
      const feed = feedOf(cache);
      const armedBefore = feed.armed;
      const heard = listenToChanges(feed);
      await armed(cache);
      // A feed that was not armed when subscribed to tells its listeners when it becomes armed.
      if (!armedBefore) {
        await waitFor("an 'armed' event", () => heard.events().some((event) => event.type === 'armed'));
      }
      expect(heard.events().filter((event) => event.type === 'lost')).toEqual([]);
    });

    it("reports a write by another cache of the prefix as a keys change, and not the cache's own set", async () => {
      const [mine, theirs] = await makeSharing();
      const heard = listenToChanges(feedOf(mine));
      await armed(mine);
      expectOk(await mine.set('own', 'v'));
      // Written after the cache's own set: had that been reported, it would have come first.
      expectOk(await theirs.set('foreign', 'v'));
      await waitFor("the other cache's write", () => heard.keys().includes('foreign'));
      expect(heard.keys()).not.toContain('own');
    });

    it('announce reaches the other caches of the prefix intact, and not the announcer', async () => {
      const [announcer, other] = await makeSharing();
      const heardByAnnouncer = listenToChanges(feedOf(announcer));
      const heardByOther = listenToChanges(feedOf(other));
      await armed(announcer, other);
      const sent: KeyChange[] = [
        { type: 'keys', keys: ['x', 'y'] },
        { type: 'pattern', pattern: 'user:[0-9]*' },
        { type: 'all' },
      ];
      for (const change of sent) {
        expectOk(
          await settle(`announce(${JSON.stringify(change)})`, () => feedOf(announcer).announce(change)),
        );
      }
      await waitFor('the three announcements', () => heardByOther.changes().length >= sent.length);
      // Intact, each once; not necessarily in order (in a Redis Cluster, two messages may travel by two nodes).
      expect(heardByOther.changes()).toHaveLength(sent.length);
      expect(heardByOther.changes()).toEqual(expect.arrayContaining(sent));
      // Sent after the three: had the announcer heard its own, they would have come first.
      expectOk(await feedOf(other).announce({ type: 'keys', keys: ['reply'] }));
      await waitFor('the reply', () => heardByAnnouncer.keys().includes('reply'));
      expect(heardByAnnouncer.changes()).toEqual([{ type: 'keys', keys: ['reply'] }]);
    });

    it('a listener that throws stops neither the feed nor the listeners after it', async () => {
      const [cache, writer] = await makeSharing();
      let thrown = 0;
      const unsubscribe = feedOf(cache).subscribe(() => {
        thrown++;
        throw new Error('listener failure');
      });
      const heard = listenToChanges(feedOf(cache));
      await armed(cache);
      expectOk(await writer.set('first', 'v'));
      expectOk(await writer.set('second', 'v'));
      await waitFor('both writes', () => heard.keys().includes('first') && heard.keys().includes('second'));
      expect(thrown).toBeGreaterThanOrEqual(2);
      unsubscribe();
    });

    it('a listener that unsubscribed hears nothing more, while the others go on hearing', async () => {
      const [cache, writer] = await makeSharing();
      const leaving = listenToChanges(feedOf(cache));
      const staying = listenToChanges(feedOf(cache));
      await armed(cache);
      expectOk(await writer.set('before', 'v'));
      await waitFor(
        'the first write',
        () => leaving.keys().includes('before') && staying.keys().includes('before'),
      );
      leaving.stop();
      expectOk(await writer.set('after', 'v'));
      expectOk(await feedOf(writer).announce({ type: 'keys', keys: ['announced-after'] }));
      await waitFor(
        'the later write and announcement',
        () => staying.keys().includes('after') && staying.keys().includes('announced-after'),
      );
      expect(leaving.keys()).not.toContain('after');
      expect(leaving.keys()).not.toContain('announced-after');
    });
  });
}
