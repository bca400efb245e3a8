/**
 * The worker policy lets replacements use only images of Amazon, the Deep Learning AMIs' owner or
 * the project's account (issue 14 item 1). A launch with `--ami` of another owner would boot, and
 * then every replacement would be refused: preflight's "ami" requirement says so before the launch,
 * with the fix (copy the image into the account).
 */
import { describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { DLAMI_OWNER } from "../../../src/aws/ec2-discovery.js";
import { amiResolvable } from "../../../src/preflight/deployer/compute.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import { FakeClock } from "../../support/fake-clock.js";

const ctx = deployerContext({ clients: createAwsClients({ region: "eu-west-1", role: "deployer" }), clock: new FakeClock() }, { project: "my-app", region: "eu-west-1", workers: 1, instanceTypes: ["g5.xlarge"], onDemandFallback: false });
const image = (owner: { ownerId?: string; ownerAlias?: string }) => ({ imageId: "ami-0123", name: "img", state: "available", architecture: "x86_64", creationDate: "", ...owner });
const ACCOUNT = "123456789012";

describe("preflight: the launch image is one the worker policy lets replacements use", () => {
  it("passes Amazon's images (by alias), the Deep Learning AMIs' and the account's own", () => {
    for (const owner of [{ ownerId: "801119661308", ownerAlias: "amazon" }, { ownerId: DLAMI_OWNER }, { ownerId: ACCOUNT }]) {
      expect(amiResolvable.verdict({ requested: "ami-0123", image: image(owner), account: ACCOUNT }, ctx).status, JSON.stringify(owner)).toBe("pass");
    }
  });

  it("fails an image of another owner, saying why, with the copy into the account as the fix", () => {
    const finding = amiResolvable.verdict({ requested: "ami-0123", image: image({ ownerId: "666666666666", ownerAlias: "aws-marketplace" }), account: ACCOUNT }, ctx);
    expect(finding.status).toBe("fail");
    expect(finding.observed).toContain("ami-0123 is owned by aws-marketplace");
    expect(finding.fix?.command).toBe("aws ec2 copy-image --source-image-id ami-0123 --source-region eu-west-1 --name synkti-my-app-worker --region eu-west-1");
  });

  it("does not guess when the account or the owner is unknown (another requirement reports STS)", () => {
    expect(amiResolvable.verdict({ requested: "ami-0123", image: image({ ownerId: "666666666666" }), account: undefined }, ctx).status).toBe("pass");
    expect(amiResolvable.verdict({ requested: "ami-0123", image: image({}), account: ACCOUNT }, ctx).status).toBe("pass");
  });
});
