/**
 * Seeded random values for generated sample messages (test/helpers/samples): every primitive the Kafka
 * schema language has, arrays of 0-3 elements, and nulls about a quarter of the time where allowed.
 */
export class SampleGen {
  private s: number;

  constructor(seed = 1) {
    this.s = seed >>> 0 || 1;
  }

  /** xorshift32 */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }

  bool(): boolean {
    return (this.next() & 1) === 1;
  }

  int8(): number {
    return this.int(-128, 127);
  }

  int16(): number {
    return this.int(-32768, 32767);
  }

  uint16(): number {
    return this.int(0, 65535);
  }

  int32(): number {
    return this.next() | 0;
  }

  uint32(): number {
    return this.next();
  }

  int64(): bigint {
    return BigInt.asIntN(64, (BigInt(this.next()) << 32n) | BigInt(this.next()));
  }

  float64(): number {
    return (this.int32() / 7) * 1.5;
  }

  string(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz-._0123456789ÄéΩ';
    const n = this.int(0, 12);
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.next() % alphabet.length];
    return s;
  }

  bytes(): Buffer {
    const n = this.int(0, 16);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  records(): Buffer {
    return this.bytes();
  }

  uuid(): string {
    const b = Buffer.allocUnsafe(16);
    for (let i = 0; i < 16; i++) b[i] = this.next() & 0xff;
    return b.toString('base64url');
  }

  array<T>(f: () => T): T[] {
    const n = this.int(0, 3);
    const a: T[] = [];
    for (let i = 0; i < n; i++) a.push(f());
    return a;
  }

  maybeNull<T>(f: () => T): T | null {
    return this.int(0, 3) === 0 ? null : f();
  }
}
