import { describe, expect, it } from 'vitest';
import { TurnRotation } from '../src/turns.js';

/* The parent's rotation of turns among the children of an interleaved pass (no processes: names stand for them). */

describe('TurnRotation', () => {
  /** Asks for a turn for `name`, and records when it is given. */
  function ask(rotation: TurnRotation, name: string, given: string[]): Promise<void> {
    return rotation.request(name).then(() => {
      given.push(name);
    });
  }

  it('gives the first turn only once every child has asked, then one at a time in rotation', async () => {
    const rotation = new TurnRotation(['a', 'b', 'c']);
    const given: string[] = [];
    const a = ask(rotation, 'a', given);
    const c = ask(rotation, 'c', given);
    await Promise.resolve();
    expect(given).toEqual([]);
    const b = ask(rotation, 'b', given);
    await a;
    // a holds the turn: b and c wait.
    await Promise.resolve();
    expect(given).toEqual(['a']);
    // a asks again before c has had its turn: the rotation keeps b, then c, ahead of it.
    rotation.release('a');
    const aAgain = ask(rotation, 'a', given);
    await b;
    rotation.release('b');
    await c;
    rotation.release('c');
    await aAgain;
    expect(given).toEqual(['a', 'b', 'c', 'a']);
  });

  it('waits for the child whose turn it is, rather than skip it while it is between turns', async () => {
    const rotation = new TurnRotation(['a', 'b']);
    const given: string[] = [];
    const a = ask(rotation, 'a', given);
    const b = ask(rotation, 'b', given);
    await a;
    rotation.release('a');
    await b;
    // a's turn next, but a has not asked yet: b, asking again, waits for it.
    rotation.release('b');
    const bAgain = ask(rotation, 'b', given);
    await new Promise((resolve) => setImmediate(resolve));
    expect(given).toEqual(['a', 'b']);
    const aAgain = ask(rotation, 'a', given);
    await aAgain;
    rotation.release('a');
    await bAgain;
    expect(given).toEqual(['a', 'b', 'a', 'b']);
  });

  it('a child that ends leaves the rotation, and the turn if it held it', async () => {
    const rotation = new TurnRotation(['a', 'b', 'c']);
    const given: string[] = [];
    const a = ask(rotation, 'a', given);
    const b = ask(rotation, 'b', given);
    const c = ask(rotation, 'c', given);
    await a;
    // a fails while holding the turn: the next in rotation gets it.
    rotation.leave('a');
    await b;
    rotation.leave('c');
    rotation.release('b');
    const bAgain = ask(rotation, 'b', given);
    await bAgain;
    expect(given).toEqual(['a', 'b', 'b']);
    void c;
  });

  it('refuses a turn handed back by a child that does not hold it', () => {
    const rotation = new TurnRotation(['a']);
    expect(() => rotation.release('a')).toThrow('a handed back a turn it did not hold');
  });
});
