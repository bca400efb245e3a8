/**
 * Text another machine wrote (a worker's tags, failure record and boot log) is printed on the
 * operator's terminal. A compromised or broken worker could put escape sequences in it that move
 * the cursor, rewrite earlier lines, retitle the window or reverse text direction: everything that
 * is not printable text goes before it is shown or returned as JSON (which `jq -r` would replay).
 */

/** CSI (`ESC [ ... final`) and OSC (`ESC ] ... BEL | ESC \`) sequences, removed whole. */
const ESCAPE_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
/** C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional overrides. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Multi-line text with only tabs and newlines left of the control characters. */
export function printable(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(ESCAPE_SEQUENCE, "").replace(CONTROL, "");
}

/** One line of at most `max` characters (an ellipsis marks a cut): for tables and summaries. */
export function oneLine(text: string, max: number): string {
  const line = printable(text).replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
