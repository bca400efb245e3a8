// The project's one endpoint: the load balancer's URL, the model behind it, where the key is.
export { describeEndpoint, curlLine, exportKeyLine, API_KEY_VARIABLE, type EndpointDeps, type EndpointOptions, type EndpointResult } from "./endpoint.js";
export { endpointSummary, type EndpointSummary } from "./summary.js";
export { endpointUrlOverride, loadBalancerUrl, ENDPOINT_URL_VARIABLE } from "./url.js";
export {
  createProjectLoadBalancer,
  createSecretReader,
  type LoadBalancerView,
  type ProjectLoadBalancer,
  type SecretReader,
  type TargetGroupView,
  type TargetHealthInfo,
} from "./load-balancer.js";
