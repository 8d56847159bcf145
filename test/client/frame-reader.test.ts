/**
 * The client's response framing (client/frame-reader.ts): frames split at every possible point across reads,
 * several frames in one read, a zero-length frame, frames larger than the reusable read buffer, frames that
 * stay intact after the read buffer is overwritten, a negative size reported as a framing fault, and the
 * recycling of large frames' memory (only memory it lent, once, and only for frames that fit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, READ_BUFFER_SIZE, RECYCLE_MIN } from '../../client/frame-reader.js';

function framed(...bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const h = Buffer.alloc(4);
      h.writeInt32BE(b.length);
      return [h, b];
    }),
  );
}

function collect(r: FrameReader): { frames: Buffer[]; errors: string[] } {
  const out = { frames: [] as Buffer[], errors: [] as string[] };
  r.attach(
    (f) => out.frames.push(f),
    (m) => out.errors.push(m),
  );
  return out;
}

/** Feeds `data` through the reader's own reusable buffer, `step` bytes a read, scribbling over it after each. */
function feed(r: FrameReader, data: Buffer, step: number): void {
  for (let pos = 0; pos < data.length; pos += step) {
    const n = data.copy(r.buffer, 0, pos, Math.min(pos + step, data.length));
    r.push(r.buffer, n);
    r.buffer.fill(0xee, 0, n);
  }
}

test('frames split at every point across two reads come out whole', () => {
  const a = Buffer.from('correlation-and-body');
  const b = Buffer.from('x');
  const data = framed(a, Buffer.alloc(0), b);
  for (let cut = 1; cut < data.length; cut++) {
    const r = new FrameReader();
    const { frames, errors } = collect(r);
    r.push(data.subarray(0, cut), cut);
    r.push(data.subarray(cut), data.length - cut);
    assert.deepEqual(
      frames.map((f) => f.toString()),
      ['correlation-and-body', '', 'x'],
      `cut at ${cut}`,
    );
    assert.deepEqual(errors, []);
  }
});

test('one byte a read, and a frame larger than the read buffer, survive reuse of the read buffer', () => {
  const big = Buffer.alloc(READ_BUFFER_SIZE * 3 + 17);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const small = Buffer.from('tail');
  for (const step of [1, 3, 4096, READ_BUFFER_SIZE]) {
    const r = new FrameReader();
    const { frames } = collect(r);
    const data = step === 1 ? framed(small, small) : framed(small, big, small);
    feed(r, data, step);
    const want = step === 1 ? [small, small] : [small, big, small];
    assert.equal(frames.length, want.length, `step ${step}`);
    for (let i = 0; i < want.length; i++) assert.ok(frames[i].equals(want[i]), `step ${step}, frame ${i}`);
  }
});

test('frames that arrive before attach() are delivered on attach, in order', () => {
  const r = new FrameReader();
  const data = framed(Buffer.from('a'), Buffer.from('bc'));
  r.push(data, data.length);
  const { frames } = collect(r);
  assert.deepEqual(
    frames.map((f) => f.toString()),
    ['a', 'bc'],
  );
});

test('a negative size is a framing fault and stops the reader', () => {
  const r = new FrameReader();
  const { frames, errors } = collect(r);
  const data = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xf0]), framed(Buffer.from('after'))]);
  r.push(data, data.length);
  assert.deepEqual(frames, []);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /negative response size -16/);
});

test('stop() delivers nothing more', () => {
  const r = new FrameReader();
  const { frames } = collect(r);
  const data = framed(Buffer.from('one'), Buffer.from('two'));
  r.push(data, 7);
  r.stop();
  r.push(data.subarray(7), data.length - 7);
  assert.deepEqual(
    frames.map((f) => f.toString()),
    ['one'],
  );
});

/** A body of `n` bytes, every byte from `seed`. */
function body(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 253;
  return b;
}

test('a recycled large frame holds the next large frame that fits; small frames never use it', () => {
  const r = new FrameReader();
  const { frames } = collect(r);
  const first = body(RECYCLE_MIN * 4, 1);
  feed(r, framed(first), READ_BUFFER_SIZE);
  assert.equal(frames.length, 1);
  const memory = frames[0]!.buffer;
  r.recycle(memory);
  const small = body(100, 2);
  const second = body(RECYCLE_MIN * 2, 3);
  feed(r, framed(small, second), READ_BUFFER_SIZE);
  assert.notEqual(frames[1]!.buffer, memory, 'a small frame is allocated apart');
  assert.equal(frames[2]!.buffer, memory, 'the large one reuses the recycled memory');
  assert.ok(frames[1]!.equals(small));
  assert.ok(frames[2]!.equals(second));
  // Not handed back: the next large frame gets memory of its own and the one in use stays intact.
  const third = body(RECYCLE_MIN * 2, 4);
  feed(r, framed(third), READ_BUFFER_SIZE);
  assert.notEqual(frames[3]!.buffer, memory);
  assert.ok(frames[2]!.equals(second), 'the frame in use was not overwritten');
  assert.ok(frames[3]!.equals(third));
});

test('recycle ignores memory it did not lend, memory handed back twice, and memory too small', () => {
  const r = new FrameReader();
  const { frames } = collect(r);
  r.recycle(Buffer.alloc(RECYCLE_MIN * 8).buffer);
  const a = body(RECYCLE_MIN, 5);
  feed(r, framed(a), READ_BUFFER_SIZE);
  const lent = frames[0]!.buffer;
  assert.equal(lent.byteLength < RECYCLE_MIN * 8, true, 'foreign memory was not used');
  r.recycle(lent);
  r.recycle(lent);
  const b = body(RECYCLE_MIN, 6);
  const c = body(RECYCLE_MIN, 7);
  feed(r, framed(b, c), READ_BUFFER_SIZE);
  assert.equal(frames[1]!.buffer, lent);
  assert.notEqual(frames[2]!.buffer, lent, 'handed back twice, lent once');
  assert.ok(frames[1]!.equals(b) && frames[2]!.equals(c));
  r.recycle(frames[2]!.buffer);
  const big = body(lent.byteLength + RECYCLE_MIN * 8, 8);
  feed(r, framed(big), READ_BUFFER_SIZE);
  assert.notEqual(frames[3]!.buffer, frames[2]!.buffer, 'too small for the frame');
  assert.ok(frames[3]!.equals(big) && frames[2]!.equals(c));
});

/** Feeds `data` as a socket with onread's buffer function does: each read lands in `nextBuffer()`. */
function feedSocket(r: FrameReader, data: Buffer, step: number): number {
  let direct = 0;
  for (let pos = 0; pos < data.length; ) {
    const buf = r.nextBuffer();
    if (buf !== r.buffer) direct++;
    const n = data.copy(buf, 0, pos, Math.min(pos + step, pos + buf.length, data.length));
    r.push(buf, n);
    if (buf === r.buffer) buf.fill(0xee, 0, n);
    pos += n;
  }
  return direct;
}

test('the rest of a large frame is read straight into it; mixed frames come out whole at any read size', () => {
  const bodies = [body(10, 1), body(RECYCLE_MIN * 3 + 5, 2), Buffer.alloc(0), body(40_000, 3), body(7, 4)];
  const data = framed(...bodies);
  for (const step of [1000, 4099, READ_BUFFER_SIZE, 300_000]) {
    const r = new FrameReader();
    const { frames, errors } = collect(r);
    const direct = feedSocket(r, data, step);
    assert.deepEqual(errors, []);
    assert.equal(frames.length, bodies.length, `read size ${step}`);
    for (let i = 0; i < bodies.length; i++) assert.ok(frames[i]!.equals(bodies[i]!), `frame ${i}, read size ${step}`);
    assert.ok(direct > 0, `read size ${step}: large frames were read in place`);
  }
});
