import { describe, expect, it } from "vitest";
import { FakeEc2 } from "./fake-ec2.js";

const spec = (zone: string, tags: Record<string, string> = { SynktiCluster: "p" }) => ({
  imageId: "ami-1", instanceType: "g5.xlarge", subnetId: `subnet-${zone}`, securityGroupId: "sg", instanceProfileName: "prof", userData: "", tags, clientToken: "t", metadataHopLimit: 1,
});

describe("FakeEc2 (the in-memory EC2 of the unit tests)", () => {
  it("launches pending in the subnet's zone, running after one observation; filters by tags and states", async () => {
    const ec2 = new FakeEc2();
    const i = await ec2.run(spec("us-east-1b"));
    expect(i).toMatchObject({ state: "pending", availabilityZone: "us-east-1b", tags: { SynktiCluster: "p" } });
    expect((await ec2.describe({ tags: { SynktiCluster: "p" } }))[0]?.state).toBe("pending");
    expect((await ec2.describe({ tags: { SynktiCluster: "p" }, states: ["running"] })).map((x) => x.instanceId)).toEqual([i.instanceId]);
    expect(await ec2.describe({ tags: { SynktiCluster: "other" } })).toEqual([]);
  });

  it("answers InsufficientInstanceCapacity (HTTP 500) in a zone without capacity, creating nothing", async () => {
    const ec2 = new FakeEc2();
    ec2.capacityIn.add("us-east-1a");
    await expect(ec2.run(spec("us-east-1a"))).rejects.toMatchObject({ name: "InsufficientInstanceCapacity", $metadata: { httpStatusCode: 500 } });
    expect(ec2.instances.size).toBe(0);
  });

  it("terminates through shutting-down; unknown ids are not-found; stuck ones stay shutting-down", async () => {
    const ec2 = new FakeEc2();
    const a = ec2.add("us-east-1a", {});
    const b = ec2.add("us-east-1a", {});
    ec2.stuck.add(b);
    expect(await ec2.terminate([a, b, "i-nope"])).toEqual([
      { instanceId: a, state: "shutting-down" },
      { instanceId: b, state: "shutting-down" },
      { instanceId: "i-nope", state: "not-found" },
    ]);
    await ec2.describe({ tags: {} });
    expect([ec2.instances.get(a)?.state, ec2.instances.get(b)?.state]).toEqual(["terminated", "shutting-down"]);
  });

  it("with loseAnswers, creates the instance and then fails like a dropped connection", async () => {
    const ec2 = new FakeEc2();
    ec2.loseAnswers = true;
    await expect(ec2.run(spec("us-east-1c"))).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(ec2.live()).toHaveLength(1);
  });
});
