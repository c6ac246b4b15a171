import { describe, expect, it } from 'vitest';
import { FillGuard } from '../src/fill-guard.js';

describe('FillGuard', () => {
  it('lets a fill commit when nothing changed the key meanwhile, once', () => {
    const guard = new FillGuard(true);
    const fill = guard.begin('k');
    expect(guard.commit(fill)).toBe(true);
    expect(guard.commit(fill)).toBe(false);
  });

  it('refuses a fill whose key was invalidated while it was in flight', () => {
    const guard = new FillGuard(true);
    const fill = guard.begin('k');
    guard.invalidate('k');
    expect(guard.commit(fill)).toBe(false);
  });

  it('an invalidation of another key leaves a fill alone', () => {
    const guard = new FillGuard(true);
    const fill = guard.begin('k');
    guard.invalidate('other');
    expect(guard.commit(fill)).toBe(true);
  });

  it('only the newest fill of a key may commit', () => {
    const guard = new FillGuard(true);
    const older = guard.begin('k');
    const newer = guard.begin('k');
    expect(guard.commit(older)).toBe(false);
    expect(guard.commit(newer)).toBe(true);
  });

  it('a change to many keys makes every fill in flight stale, but not the fills begun after it', () => {
    const guard = new FillGuard(true);
    const before = [guard.begin('a'), guard.begin('b')];
    guard.invalidateAll();
    const after = guard.begin('c');
    expect(before.map((fill) => guard.commit(fill))).toEqual([false, false]);
    expect(guard.commit(after)).toBe(true);
  });

  it('nothing commits while changes cannot be heard, and fills begun before the loss never do', () => {
    const guard = new FillGuard(true);
    const beforeLoss = guard.begin('a');
    guard.lose();
    expect(guard.trusted).toBe(false);
    const duringLoss = guard.begin('b');
    expect(guard.commit(duringLoss)).toBe(false);
    guard.regain();
    expect(guard.commit(beforeLoss)).toBe(false);
    expect(guard.commit(guard.begin('c'))).toBe(true);
  });

  it('a guard that starts untrusted commits nothing until it regains trust', () => {
    const guard = new FillGuard(false);
    expect(guard.commit(guard.begin('k'))).toBe(false);
    guard.regain();
    expect(guard.commit(guard.begin('k'))).toBe(true);
  });

  it('an abandoned fill leaves a newer fill of the key able to commit', () => {
    const guard = new FillGuard(true);
    const older = guard.begin('k');
    const newer = guard.begin('k');
    guard.abandon(older);
    expect(guard.commit(newer)).toBe(true);
  });

  it('after close nothing commits', () => {
    const guard = new FillGuard(true);
    const fill = guard.begin('k');
    guard.close();
    guard.regain();
    expect(guard.commit(fill)).toBe(false);
    expect(guard.commit(guard.begin('k'))).toBe(false);
  });
});
