import { ROLE_WORKER, TAG_CLUSTER, TAG_ROLE } from "../../infra/names.js";
import type { Requirement } from "../types.js";
import type { InstanceFacts, WorkerContext } from "./context.js";

const IAM_ROLE_PATH = "/latest/meta-data/iam/security-credentials/";

/** No facts when the context verdict already rules this machine out (IMDS need not be asked then). */
type IdentityObservation = { facts: InstanceFacts | undefined };

/**
 * This machine is a worker of this project: `synkti context` said so (EC2 identity document plus
 * the instance's own tags), and IMDS gives the address peers will reach it on.
 */
export const workerIdentity: Requirement<WorkerContext, IdentityObservation> = {
  id: "worker-identity",
  title: "EC2 instance tagged as this project's worker",
  timeoutMs: 5000,
  async observe(ctx) {
    const isWorker = ctx.verdict.role === "worker" && ctx.verdict.evidence.project === ctx.names.project;
    return { facts: isWorker ? await ctx.instance() : undefined };
  },
  verdict({ facts }, ctx) {
    const { verdict, names } = ctx;
    if (facts) {
      return {
        status: "pass",
        observed: `${facts.instanceId} (${facts.instanceType}) in ${facts.availabilityZone}, local-ipv4 ${facts.localIpv4}, tagged ${TAG_CLUSTER}=${names.project} ${TAG_ROLE}=${ROLE_WORKER}`,
      };
    }
    return {
      status: "fail",
      observed: `not a worker of ${names.project}: ${verdict.reason}`,
      fix: { command: verdict.fix ?? verdict.contradiction?.fix ?? `synkti context --project-name ${names.project}` },
    };
  },
};

/** The instance profile gives the agent its credentials; its role must be the project's worker role. */
export const instanceRole: Requirement<WorkerContext, string | undefined> = {
  id: "instance-role",
  title: "worker IAM role attached (instance profile)",
  timeoutMs: 5000,
  async observe(ctx) {
    const body = await ctx.imds.get(IAM_ROLE_PATH);
    return body?.split("\n").map((line) => line.trim()).find(Boolean);
  },
  verdict(role, ctx) {
    const expected = ctx.names.role;
    if (role === expected) return { status: "pass", observed: `role ${role}` };
    const id = ctx.verdict.evidence.instanceId ?? "<instance-id>";
    const region = ctx.verdict.evidence.region ? ` --region ${ctx.verdict.evidence.region}` : "";
    if (role === undefined) {
      return {
        status: "fail",
        observed: "no instance profile attached: the agent has no AWS credentials",
        fix: { command: `aws ec2 associate-iam-instance-profile --instance-id ${id} --iam-instance-profile Name=${ctx.names.instanceProfile}${region}` },
      };
    }
    return {
      status: "fail",
      observed: `role ${role} attached, expected ${expected}`,
      fix: {
        command: `aws ec2 replace-iam-instance-profile-association --association-id <association-id> --iam-instance-profile Name=${ctx.names.instanceProfile}${region}`,
        needs: ["association-id"],
      },
    };
  },
};
