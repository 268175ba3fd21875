import type { Rule } from '@angular-devkit/schematics';

/**
 * A rule of `@nestjs/schematics`, typed against its own pinned copy of `@angular-devkit/schematics`:
 * the same functions at runtime (the Nest CLI mixes them the same way), distinct types to tsc.
 */
export function nestRule(rule: object): Rule {
  return rule as Rule;
}
