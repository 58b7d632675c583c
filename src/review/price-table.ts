import priceJson from "./prices.json";

/** The price table kept in the repository (prices.json), and the prices the estimate uses for one region. */

export type RegionPrices = (typeof priceJson.regions)["us-east-1"];
type Fargate = RegionPrices["fargate"];
/** A region's recorded figures: any may be missing, and then the fallback region's is used. */
export type RecordedPrices = Partial<Omit<RegionPrices, "fargate">> & { fargate?: Partial<Fargate> };
export interface PriceFile {
  readonly recorded: string;
  readonly currency: string;
  readonly hours_per_month: number;
  readonly fallback_region: string;
  readonly fargate_spot_discount: number;
  readonly regions: Record<string, RecordedPrices>;
  readonly sources: Record<string, Record<string, string> | string>;
}
export const PRICE_FILE: PriceFile = priceJson;
/** The fallback region's prices (us-east-1), complete. */
export const PRICES: RegionPrices = priceJson.regions["us-east-1"];
export const HOURS_PER_MONTH = priceJson.hours_per_month;

export interface PriceChoice {
  /** The region the stack deploys to (undefined when it cannot be told). */
  readonly region?: string;
  /** The region whose table is used: the stack's, or the fallback when the table has none for it. */
  readonly pricedAs: string;
  readonly prices: RegionPrices;
  /** Figures the region's table lacks, priced at the fallback region's (`nat_gateway_hour`, `fargate.ARM64`). */
  readonly borrowed: string[];
}

/** The prices for a region: its recorded figures, the fallback region's for the rest. */
export function pricesFor(region: string | undefined, file: PriceFile = PRICE_FILE): PriceChoice {
  const fallback = file.regions[file.fallback_region] as RegionPrices;
  // Own entries only: a region such as "constructor" or "__proto__" from a plan must not find an inherited property.
  const recorded = region !== undefined && Object.hasOwn(file.regions, region) ? file.regions[region] : undefined;
  if (!recorded || region === file.fallback_region) return { region, pricedAs: file.fallback_region, prices: fallback, borrowed: [] };
  const borrowed: string[] = [];
  const prices: Record<string, unknown> = {};
  for (const [figure, value] of Object.entries(fallback)) {
    if (figure === "fargate") continue;
    const own = (recorded as Record<string, unknown>)[figure];
    if (own === undefined) borrowed.push(figure);
    prices[figure] = own ?? value;
  }
  const fargate: Record<string, unknown> = {};
  for (const [architecture, value] of Object.entries(fallback.fargate)) {
    const own = recorded.fargate?.[architecture as keyof Fargate];
    if (own === undefined) borrowed.push(`fargate.${architecture}`);
    fargate[architecture] = own ?? value;
  }
  return { region, pricedAs: region!, prices: { ...prices, fargate } as RegionPrices, borrowed };
}

/** A price table's own entry: "constructor" or "__proto__" from a plan must not find an inherited property. */
export const ownPrice = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);
