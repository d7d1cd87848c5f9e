// The decoded-block cache: straight-line runs of instruction records, decoded once and replayed.
//
// A block is keyed by where its first byte lives in the memory bus's backing store (`mem.bytes`,
// i.e. the physical page after A20 and the chipset's ROM/shadow routing) and by the default
// operand/address size (CS.D), the only mode bit decoding depends on; everything else (stack
// size, CPL, paging) is read by the handlers when they run. Lookups translate CS:EIP afresh
// through the fetch window each time, so a page remapped under the same linear address, or code
// reached through another mapping, finds the block for the bytes actually there.
//
// A block never leaves the 4 KiB page it starts in (decoding stops where the fetch window ends:
// page end or CS limit), so it is tracked on exactly one page. MemoryBus.codeChunks marks, per
// page, the 128-byte chunks that hold cached code; every write path checks the mark (the CPU's
// TLB store fast path, its bulk string paths, the bus's physical accessors used by devices and
// page walks, and bus-master DMA) and reports a hit here, which drops the blocks overlapping the
// written bytes. The run loop re-checks its block after every instruction, so a store into the
// very next instruction is seen, as on a P6.

import type { MemoryBus } from '../bus/memory.ts';
import { Instr } from './decoder.ts';
import type { CompiledBlock } from './jit.ts';

/** Longest block decoded (instructions). */
export const MAX_BLOCK = 64;
const RECENT_SIZE = 4096;
/** Most blocks kept at once (about 30 MiB of records). */
const MAX_BLOCKS = 1 << 16;
const CHUNK_SHIFT = 7; // 128-byte chunks: 32 per page, one bit each

export class Block {
  readonly instrs: Instr[] = [];
  count = 0;
  /** Bytes covered, from the first instruction's first byte. */
  bytes = 0;
  /** Index in mem.bytes of the first byte. */
  host = 0;
  key = 0;
  /** Cleared when a write lands on the block's bytes (the run loop leaves it at once). */
  valid = true;
  /** Times the block has been entered (until the JIT compiles it). */
  hits = 0;
  /** The block compiled to JavaScript (jit.ts), or null while it is interpreted. */
  compiled: CompiledBlock | null = null;
  /**
   * Per exit of the compiled block, the block that ran after it last time: a cache, checked
   * before use (still valid, and at the host address CS:EIP now fetches from), so that jumps,
   * calls and returns chain from block to block without a lookup.
   */
  links: (Block | null)[] = NO_LINKS;
}
const NO_LINKS: (Block | null)[] = [];

export class BlockCache {
  private readonly blocks = new Map<number, Block>();
  /** Blocks per page of mem.bytes. */
  private readonly pageBlocks: (Block[] | undefined)[];
  private readonly chunks: Uint32Array;
  /** Direct-mapped front of `blocks`: most lookups are one array read and a key compare. */
  private readonly recent: (Block | null)[] = new Array(RECENT_SIZE).fill(null);
  /** Counters for notes and tests. */
  built = 0;
  /** Blocks dropped (by writes into their bytes, mapping changes and full-cache flushes). */
  invalidated = 0;
  /** Times the cache was full and started over. */
  flushes = 0;

  /** `onDrop` is called when a write drops blocks (the run loop must leave the running one). */
  constructor(private readonly mem: MemoryBus, private readonly onDrop: () => void = () => {}) {
    this.chunks = mem.codeChunks;
    this.pageBlocks = new Array(mem.codeChunks.length);
    mem.codeWritten = (index, length) => this.written(index, length);
  }

  static key(host: number, code32: boolean): number { return host * 2 + (code32 ? 1 : 0); }

  get(key: number): Block | undefined {
    const slot = (key ^ (key >>> 13)) & (RECENT_SIZE - 1);
    const r = this.recent[slot];
    if (r !== null && r.key === key && r.valid) return r;
    const b = this.blocks.get(key);
    if (b !== undefined) this.recent[slot] = b;
    return b;
  }

  /** Enter a freshly decoded block and mark its bytes as code. */
  add(b: Block): void {
    if (this.blocks.size >= MAX_BLOCKS) { this.flushes++; this.clear(); } // bounded: start over rather than grow without end
    const old = this.blocks.get(b.key);
    if (old) this.drop(old);
    this.blocks.set(b.key, b);
    const page = b.host >>> 12;
    let list = this.pageBlocks[page];
    if (!list) list = this.pageBlocks[page] = [];
    list.push(b);
    this.chunks[page] |= chunkMask(b.host & 0xfff, ((b.host + b.bytes - 1) & 0xfff));
    this.built++;
  }

  /** Drop every block (mapping changes: ROM loads, shadow RAM, A20). */
  clear(): void {
    for (const b of this.blocks.values()) b.valid = false;
    this.onDrop();
    this.invalidated += this.blocks.size;
    this.blocks.clear();
    this.recent.fill(null);
    this.pageBlocks.fill(undefined);
    this.chunks.fill(0);
  }

  get size(): number { return this.blocks.size; }

  /** A write to bytes [index, index + length) of mem.bytes touched a page holding code. */
  private written(index: number, length: number): void {
    const end = index + length;
    for (let page = index >>> 12; page <= (end - 1) >>> 12; page++) {
      const mask = this.chunks[page];
      if (!mask) continue;
      const base = page << 12;
      const lo = Math.max(index, base) - base, hi = Math.min(end, base + 0x1000) - 1 - base;
      if (!(mask & chunkMask(lo, hi))) continue;
      const list = this.pageBlocks[page];
      if (!list) { this.chunks[page] = 0; continue; }
      let kept = 0, remaining = 0;
      for (let i = 0; i < list.length; i++) {
        const b = list[i];
        if (b.host < end && b.host + b.bytes > index) {
          b.valid = false;
          if (this.blocks.get(b.key) === b) this.blocks.delete(b.key);
          this.invalidated++;
          this.onDrop();
        } else {
          list[kept++] = b;
          remaining |= chunkMask(b.host & 0xfff, (b.host + b.bytes - 1) & 0xfff);
        }
      }
      list.length = kept;
      this.chunks[page] = remaining;
    }
  }

  private drop(b: Block): void {
    b.valid = false;
    const list = this.pageBlocks[b.host >>> 12];
    if (list) { const i = list.indexOf(b); if (i >= 0) list.splice(i, 1); }
    if (this.blocks.get(b.key) === b) this.blocks.delete(b.key);
  }
}

/** Chunk bits covering page offsets lo..hi (inclusive). */
function chunkMask(lo: number, hi: number): number {
  const a = lo >>> CHUNK_SHIFT, z = hi >>> CHUNK_SHIFT;
  const upTo = z === 31 ? -1 : (1 << (z + 1)) - 1;
  return (upTo & ~((1 << a) - 1)) | 0;
}
