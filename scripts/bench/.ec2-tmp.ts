import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
import { EC2Client, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
const moto = await startMoto();
const ec2 = new EC2Client({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
try {
  for (let i = 0; i < 3; i++) {
    let t = Date.now(); await ec2.send(new DescribeInstancesCommand({})); const first = Date.now() - t;
    t = Date.now(); await ec2.send(new DescribeInstancesCommand({})); const second = Date.now() - t;
    console.log("first", first, "second", second);
    await moto.reset();
  }
} finally { await moto.stop(); }
