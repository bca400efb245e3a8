import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import type { Killer, Spawner } from "../../../src/worker/model-server/process-group.js";

/**
 * A fake process table for the supervisor's unit tests: `spawn` makes children that live until a
 * test ends them (`crash`) or a signal does. `obeysTerm` decides whether SIGTERM ends a child
 * (false plays a hung vLLM that only SIGKILL stops). Every signal sent is recorded.
 */
export class FakeChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exited = false;
  obeysTerm = true;

  constructor(
    readonly pid: number,
    readonly argv: string[],
  ) {
    super();
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    setImmediate(() => this.emit("exit", code, signal));
  }

  crash(code = 1): void {
    this.exit(code);
  }
}

export class FakeProcesses {
  readonly children: FakeChild[] = [];
  readonly signals: Array<{ pid: number; signal: NodeJS.Signals }> = [];
  private nextPid = 1000;

  readonly spawn: Spawner = (command, args) => {
    const child = new FakeChild(this.nextPid++, [command, ...args]);
    this.children.push(child);
    return child as unknown as ChildProcess;
  };

  readonly kill: Killer = (pid, signal) => {
    this.signals.push({ pid, signal });
    const child = this.children.find((c) => c.pid === Math.abs(pid));
    if (!child || child.exited) return;
    if (signal === "SIGKILL") child.exit(null, "SIGKILL");
    else if (signal === "SIGTERM" && child.obeysTerm) child.exit(0, null);
  };

  latest(): FakeChild {
    const child = this.children.at(-1);
    if (!child) throw new Error("nothing spawned yet");
    return child;
  }
}
