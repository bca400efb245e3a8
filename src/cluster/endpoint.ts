/**
 * `SynktiEndpoint=<ipv4>:<port>`: where a worker answers, as it publishes it on itself. Peers dial
 * it and the deployer shows it; a tag is written by a machine that may be broken, so anything else
 * in it is neither dialled nor shown.
 */
export const WORKER_ENDPOINT = /^(\d{1,3}\.){3}\d{1,3}:\d{1,5}$/;
