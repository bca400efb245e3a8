import type { ImdsRequest, ImdsTransport } from "../../../src/context/imds-transport.js";

/** A metadata address that accepts and never answers, honouring aborts; counts requests. */
export function silent(): { transport: ImdsTransport; seen: ImdsRequest[] } {
  const seen: ImdsRequest[] = [];
  return {
    seen,
    transport: (req, signal) => {
      seen.push(req);
      return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    },
  };
}

/** The IMDS settings the detection tests pass alongside a transport (the endpoint is never dialled). */
export const imds = { endpoint: "http://127.0.0.1:9", disabled: false, source: "AWS_EC2_METADATA_SERVICE_ENDPOINT" as const };
