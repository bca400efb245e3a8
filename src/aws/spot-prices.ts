import type { AwsClients } from "./clients.js";

/**
 * Current spot prices (USD per instance-hour, Linux) of one instance type, by availability zone.
 * Only what the launch plan shows; a zone AWS gives no price for is absent from the answer.
 */
export interface SpotPrices {
  current(instanceType: string, zones: string[], signal?: AbortSignal): Promise<Record<string, number>>;
}

export function createSpotPrices(clients: AwsClients): SpotPrices {
  return {
    async current(instanceType, zones, signal) {
      const [{ DescribeSpotPriceHistoryCommand }, ec2] = await Promise.all([import("@aws-sdk/client-ec2"), clients.ec2()]);
      // StartTime = now: AWS answers with the price in effect now for each zone (its latest change).
      const out = await ec2.send(
        new DescribeSpotPriceHistoryCommand({
          InstanceTypes: [instanceType as never],
          ProductDescriptions: ["Linux/UNIX"],
          StartTime: new Date(),
          ...(zones.length > 0 ? { Filters: [{ Name: "availability-zone", Values: zones }] } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      const latest = new Map<string, { at: number; price: number }>();
      for (const p of out.SpotPriceHistory ?? []) {
        const price = Number(p.SpotPrice);
        if (!p.AvailabilityZone || !Number.isFinite(price)) continue;
        if (zones.length > 0 && !zones.includes(p.AvailabilityZone)) continue;
        const at = p.Timestamp?.getTime() ?? 0;
        const known = latest.get(p.AvailabilityZone);
        if (!known || at > known.at) latest.set(p.AvailabilityZone, { at, price });
      }
      return Object.fromEntries([...latest].map(([zone, { price }]) => [zone, price]));
    },
  };
}
