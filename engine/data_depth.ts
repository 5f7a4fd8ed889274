/**
 * How deeply JSON-like data nests, measured without recursion so that hostile data (10,000 levels
 * of `{"a": {"a": …}}`) cannot overflow the stack while it is being checked.
 *
 * @module
 */

/**
 * Whether `value` nests objects or lists more than `limit` levels deep: a scalar has depth 0,
 * `{}` and `[]` depth 1, `{"a": []}` depth 2. The walk is iterative and stops at the first
 * container past the limit; shared or cyclic references also stop there, so it always ends.
 */
export function exceedsDataDepth(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  const containers: object[] = [value];
  const depths: number[] = [1];
  while (containers.length > 0) {
    const container = containers.pop() as object;
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    if (Array.isArray(container)) {
      for (let index = 0; index < container.length; index++) {
        const child: unknown = container[index];
        if (typeof child === "object" && child !== null) {
          containers.push(child);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    const record = container as Record<string, unknown>;
    for (const key in record) {
      const child = record[key];
      if (typeof child === "object" && child !== null) {
        containers.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
