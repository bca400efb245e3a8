import { fstatSync, statSync, writeSync } from "node:fs";
import type { OutputConfiguration } from "commander";

/**
 * process.stdout and process.stderr are made on first use, and making one loads Node's stream
 * modules: a tenth of `synkti --help`'s start-up (issue 13). Help, usage errors and `--version`
 * (src/main.ts) therefore go straight to the file descriptor when it is a pipe, a file or
 * /dev/null. Order is kept: Node writes to pipes asynchronously, so once a stream exists (watched
 * below) everything goes through it. A terminal keeps the stream: commander wraps help to its width.
 */

type Name = "stdout" | "stderr";
const FD: Record<Name, number> = { stdout: 1, stderr: 2 };
const created = new Set<Name>();
const listeners: Array<(stream: NodeJS.WriteStream) => void> = [];
let watching = false;

/** Calls `listener` with process.stdout and process.stderr when each is first used, without making them. */
export function whenStdioCreated(listener: (stream: NodeJS.WriteStream) => void): void {
  listeners.push(listener);
  for (const name of created) listener(process[name]);
  if (!watching) {
    watching = true;
    for (const name of ["stdout", "stderr"] as const) watch(name);
  }
}

function watch(name: Name): void {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const get = own?.get;
  if (!get || !own.configurable) {
    created.add(name); // not Node's lazy getter: use it as it is
    for (const listener of listeners) listener(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      const stream = get.call(process) as NodeJS.WriteStream;
      if (!created.has(name)) {
        created.add(name);
        for (const listener of listeners) listener(stream);
      }
      return stream;
    },
  });
}

const direct = new Map<Name, boolean>();
/**
 * Whether the descriptor can be written without a stream: a pipe (a FIFO from a shell, a socket
 * from a program that spawned synkti), a regular file or /dev/null. Never a terminal.
 */
function isDirect(name: Name): boolean {
  let answer = direct.get(name);
  if (answer === undefined) {
    try {
      const stat = fstatSync(FD[name]);
      answer = stat.isFIFO() || stat.isSocket() || stat.isFile() || (stat.isCharacterDevice() && stat.rdev === statSync("/dev/null").rdev);
    } catch {
      answer = false; // closed or odd: let Node's stream decide what to do
    }
    direct.set(name, answer);
  }
  return answer;
}

/**
 * Writes `text` to stdout or stderr, straight to the descriptor when no stream is needed.
 * `brokenPipe` runs when the reader went away (EPIPE), as the streams' error handler would.
 */
export function writeStdio(name: Name, text: string, brokenPipe: () => never): void {
  if (created.has(name) || !isDirect(name)) {
    process[name].write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(FD[name], bytes, done);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EPIPE") brokenPipe();
    if (code !== "EAGAIN") throw error;
    process[name].write(bytes.subarray(done)); // a non-blocking pipe is full: the stream waits for it
  }
}

/**
 * Commander's output configuration with the writes above; `defaults` is commander's own
 * (`program.configureOutput()`), kept for a terminal or once a stream exists. For a descriptor
 * written directly, help width and colours are what commander decides when the output is not a
 * terminal: no width (80 columns), and no colours (synkti's help has no colour codes, so the
 * FORCE_COLOR that would keep them changes nothing).
 */
export function commanderOutput(defaults: OutputConfiguration, brokenPipe: () => never): OutputConfiguration {
  const stream = (name: Name) => created.has(name) || !isDirect(name);
  return {
    ...defaults,
    writeOut: (text) => writeStdio("stdout", text, brokenPipe),
    writeErr: (text) => writeStdio("stderr", text, brokenPipe),
    getOutHelpWidth: () => (stream("stdout") ? defaults.getOutHelpWidth!() : (undefined as unknown as number)),
    getErrHelpWidth: () => (stream("stderr") ? defaults.getErrHelpWidth!() : (undefined as unknown as number)),
    getOutHasColors: () => stream("stdout") && defaults.getOutHasColors!(),
    getErrHasColors: () => stream("stderr") && defaults.getErrHasColors!(),
  };
}
