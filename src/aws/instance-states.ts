export type InstanceState = "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped";

const ALL_STATES: readonly InstanceState[] = ["pending", "running", "shutting-down", "terminated", "stopping", "stopped"];
/** Every state but terminated: an instance that still exists (bills, may still boot, holds its security group). */
export const LIVE_STATES: readonly InstanceState[] = ALL_STATES.filter((s) => s !== "terminated");
