/**
 * True when `value` nests objects or arrays deeper than `limit`. Iterative, so a hostile body
 * cannot overflow the stack here (as it would in class-transformer's recursion).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) {
      continue;
    }
    if (depth >= limit) {
      return true;
    }
    for (const child of Object.values(item)) {
      stack.push([child, depth + 1]);
    }
  }
  return false;
}
