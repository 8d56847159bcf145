/**
 * The small JSON state files the metadata stores keep in the data dir (client quotas, SCRAM credentials,
 * dynamic configs): read the text (a missing file is no state), parse it, and write changes atomically and
 * durably one at a time in call order.
 */
import { writeFileAtomically } from '../../storage/checkpoint.js';
import { type FileSystem, isNotFound } from '../../storage/fs.js';

/** The file's text, or undefined when it does not exist. */
export async function readOptionalText(fs: FileSystem, file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file)).toString('utf8');
  } catch (err) {
    if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** JSON.parse, throwing `bad(parse error)` for text that is not JSON. */
export function parseJson(text: string, bad: (err: Error) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad(err as Error);
  }
}

/** Replace `file` with `doc` as one line of JSON (tmp + fsync + rename + dir fsync). */
export function writeJsonFile(fs: FileSystem, file: string, doc: unknown): Promise<void> {
  return writeFileAtomically(fs, file, Buffer.from(`${JSON.stringify(doc)}\n`));
}

/** Runs tasks one at a time in call order; a failed task does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
