import { expect } from "vitest";
import { testingMatchers } from "cdktf";

/** cdktf ships jest adapters only; these register its matchers with vitest's expect. */
type Constructor = testingMatchers.TerraformConstructor;
const passEvaluation = (items: unknown[], asserted: Record<string, unknown>): boolean =>
  Object.keys(asserted).length === 0 ? items.length > 0 : expect.arrayContaining([expect.objectContaining(asserted)]).asymmetricMatch(items);
const toJest = (r: { pass: boolean; message: string }) => ({ pass: r.pass, message: () => r.message });

expect.extend({
  toHaveResource(received: string, type: Constructor) {
    return toJest(testingMatchers.getToHaveResourceWithProperties(passEvaluation)(received, type, {}));
  },
  toHaveResourceWithProperties(received: string, type: Constructor, properties: Record<string, unknown>) {
    return toJest(testingMatchers.getToHaveResourceWithProperties(passEvaluation)(received, type, properties));
  },
  toHaveProviderWithProperties(received: string, type: Constructor, properties: Record<string, unknown>) {
    return toJest(testingMatchers.getToHaveProviderWithProperties(passEvaluation)(received, type, properties));
  },
  toHaveDataSource(received: string, type: Constructor) {
    return toJest(testingMatchers.getToHaveDataSourceWithProperties(passEvaluation)(received, type, {}));
  },
});

interface CdktfMatchers<R = unknown> {
  toHaveResource(type: Constructor): R;
  toHaveResourceWithProperties(type: Constructor, properties: Record<string, unknown>): R;
  toHaveDataSource(type: Constructor): R;
  toHaveProviderWithProperties(type: Constructor, properties: Record<string, unknown>): R;
}
declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Assertion<T = any> extends CdktfMatchers<T> {}
}
