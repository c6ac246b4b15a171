/**
 * `pending`'s outcome if it settles within `ms` milliseconds, otherwise `onTimeout()`'s. The timer is cleared
 * either way, so nothing is left to keep the process alive. The one bounded wait of the repository: calls,
 * connections and closes all wait through it.
 */
export async function withTimeout<T, U = T>(
  pending: Promise<T>,
  ms: number,
  onTimeout: () => U | Promise<U>,
): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  try {
    return await Promise.race([pending, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
